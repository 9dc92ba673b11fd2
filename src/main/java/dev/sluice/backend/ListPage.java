package dev.sluice.backend;

import dev.sluice.s3.ObjectSummary;

import java.util.List;
import java.util.Optional;

/** One page from a backend: objects and common prefixes in key order; {@code next} is present iff truncated. */
public record ListPage(List<ObjectSummary> objects, List<String> commonPrefixes, Optional<ListPosition> next) {
}
