package dev.sluice.registry;

/** The stable address of a dataset: {@code /{account}/{product}/}. */
public record ProductRef(String account, String product) {
    @Override
    public String toString() {
        return account + "/" + product;
    }
}
