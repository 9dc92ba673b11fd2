package dev.sluice.registry;

/** Who may know a product exists: everyone, or only callers it is shared with. */
public enum Visibility {
    PUBLIC, RESTRICTED
}
