package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random initial parameters for a config, as Hugging Face initialises a fresh model: every matrix and embedding
 * N(0, σ²) with σ = {@code initializer_range} (0.02), norm gains 1 (0 for Gemma's (1 + w)), biases 0. The generator is
 * Java's (SplittableRandom, seeded), so the same seed gives the same weights on every engine, device and JVM.
 */
public final class ModelInit {
    public static final double DEFAULT_STD = 0.02;

    private ModelInit() {
    }

    /**
     * Every {@link Transformer} parameter, in {@code manager} as float32.
     *
     * @param randomBiases draw biases like matrices instead of zeros (test fixtures, so a bias that is ignored shows)
     */
    public static Map<String, NDArray> randomParameters(ModelConfig config, long seed, double std, boolean randomBiases, NDManager manager) {
        Map<String, NDArray> w = new LinkedHashMap<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (var e : Transformer.parameterShapes(config).entrySet()) {
            String name = e.getKey();
            Shape shape = new Shape(e.getValue());
            boolean norm = name.contains("norm");
            if (norm && name.endsWith(".weight")) {
                w.put(name, manager.full(shape, config.parts().norm().initialGain()));
            } else if (name.endsWith(".bias") && (norm || !randomBiases)) {
                w.put(name, manager.zeros(shape));
            } else {
                float[] v = new float[Math.toIntExact(shape.size())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextGaussian() * std);
                }
                w.put(name, manager.create(v, shape));
            }
        }
        return w;
    }

    /** A freshly initialised model (float32) that owns {@code manager}. */
    public static LanguageModel build(ModelConfig config, long seed, NDManager manager) {
        return new Transformer(config, randomParameters(config, seed, DEFAULT_STD, false, manager), manager);
    }
}
