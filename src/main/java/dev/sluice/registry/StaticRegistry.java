package dev.sluice.registry;

import dev.sluice.backend.KeyOrder;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Products listed in the configuration file; fixed for the life of the process. */
public final class StaticRegistry implements Registry {
    private final Map<ProductRef, Product> byRef;
    private final Map<String, List<Product>> byAccount;

    public StaticRegistry(List<Product> products) {
        this.byRef = products.stream().collect(Collectors.toUnmodifiableMap(Product::ref, Function.identity()));
        Map<String, List<Product>> accounts = new TreeMap<>();
        for (Product p : products) {
            accounts.computeIfAbsent(p.ref().account(), a -> new java.util.ArrayList<>()).add(p);
        }
        accounts.replaceAll((a, list) -> list.stream()
                .sorted(Comparator.comparing(p -> p.ref().product(), KeyOrder.COMPARATOR))
                .toList());
        this.byAccount = Map.copyOf(accounts);
    }

    @Override
    public boolean answersFromMemory() {
        return true;
    }

    @Override
    public Optional<Product> find(ProductRef ref) {
        return Optional.ofNullable(byRef.get(ref));
    }

    @Override
    public List<Product> list(String account) {
        return byAccount.getOrDefault(account, List.of());
    }

    @Override
    public List<String> accounts() {
        return byAccount.keySet().stream().sorted(KeyOrder.COMPARATOR).toList();
    }

    @Override
    public void close() {
        byRef.values().forEach(p -> p.resolveBackend().close());
    }
}
