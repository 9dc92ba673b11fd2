package dev.sluice.registry;

import dev.sluice.backend.Backend;

/** A resolved product: where its bytes live and who may see it. */
public record Product(ProductRef ref, Visibility visibility, Backend backend) {
}
