package io.loupe;

import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates {@code ../shared} (the stories260k model and its reference vectors); tests skip without it. */
public final class TestData {
    private TestData() {
    }

    /** The shared folder beside the checkout (or inside it), or null. */
    public static Path sharedOrNull() {
        String env = System.getenv("LOUPE_SHARED");
        if (env != null && Files.isDirectory(Path.of(env))) {
            return Path.of(env);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path s = p.resolve("shared");
            if (Files.isDirectory(s.resolve("models/stories260k"))) {
                return s;
            }
        }
        return null;
    }

    /**
     * The shared folder, or skips the calling test with a clear message; under CI ({@code CI=true}) a missing folder fails
     * instead, so a CI run can never pass by silently skipping every reference test.
     */
    public static Path shared() {
        Path s = sharedOrNull();
        if (s == null && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("CI=true but ../shared (stories260k and the reference vectors) was not found beside the checkout; "
                    + "CI must run with it (or set LOUPE_SHARED)");
        }
        Assumptions.assumeTrue(s != null, "../shared (stories260k and its test vectors) not found: skipping; set LOUPE_SHARED to run");
        return s;
    }

    public static Path stories() {
        return shared().resolve("models/stories260k");
    }

    public static Path vectors() {
        return shared().resolve("testvectors/stories260k");
    }

    /** A float32 tensor of a safetensors file as a flat array. */
    public static float[] floats(SafetensorsFile f, String name) throws IOException {
        FloatBuffer fb = f.bytes(name).asFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
    }

    /** Max |a - b|, failing on a length mismatch. */
    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " != " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            m = Math.max(m, d);
        }
        return m;
    }
}
