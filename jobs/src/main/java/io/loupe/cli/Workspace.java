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

    /** The trained stories260k model shipped in the repository ({@code models/stories260k}), or null if it is missing. */
    static Path embeddedModelOrNull() {
        Path p = home().resolve("models/stories260k");
        return Files.isRegularFile(p.resolve("model.safetensors")) ? p : null;
    }

    /** The random 25M benchmark model (d=512, 8 layers, d_mlp=1376, 8 heads, vocab 512), generated once under out/bench. */
    static Path benchModel25m() throws java.io.IOException {
        Path m25 = out("bench").resolve("random-25m");
        if (!Files.exists(m25.resolve("config.json"))) {
            Console.info("bench: generating the 25M random model at " + m25);
            new io.loupe.model.RandomModelWriter(8, 512, 8, 8, 1376, 512, 0, false, false, io.loupe.tensor.TensorDtype.F32, 1).write(m25);
        }
        return m25;
    }

    /** A random GPT-2-small-shaped model (12 layers, d 768, 12 heads, d_mlp 3072, vocab 50257, 1024 positions), generated once. */
    static Path benchModelGpt2Small() throws java.io.IOException {
        Path dir = out("bench").resolve("random-gpt2-small");
        if (!Files.exists(dir.resolve("config.json"))) {
            Console.info("bench: generating the GPT-2-small-shaped random model at " + dir);
            new io.loupe.model.RandomModelWriter(12, 768, 12, 12, 3072, 50257, 0, true, false, io.loupe.tensor.TensorDtype.F32, 1, "gpt2").write(dir);
        }
        return dir;
    }

    /** Default output folder for a command: {@code <home>/out/<name>}. */
    static Path out(String name) {
        return home().resolve("out").resolve(name);
    }
}
