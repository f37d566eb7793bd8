package io.loupe.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the checkout, the shared fixtures and default outputs are, as scripts/loupe sets them. */
final class Workspace {
    private Workspace() {
    }

    /** The checkout root: {@code LOUPE_HOME}, else the working directory. */
    static Path home() {
        String h = System.getenv("LOUPE_HOME");
        return Path.of(h != null ? h : "").toAbsolutePath();
    }

    /** {@code LOUPE_SHARED}, else {@code ../shared} beside the checkout, else {@code shared/} inside it; null if none. */
    static Path sharedOrNull() {
        String env = System.getenv("LOUPE_SHARED");
        for (Path p : new Path[]{env == null ? null : Path.of(env), home().resolveSibling("shared"), home().resolve("shared")}) {
            if (p != null && Files.isDirectory(p.resolve("models/stories260k"))) {
                return p;
            }
        }
        return null;
    }

    /** Default output folder for a command: {@code <home>/out/<name>}. */
    static Path out(String name) {
        return home().resolve("out").resolve(name);
    }
}
