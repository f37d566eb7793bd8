package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random initial weights for a config, as Hugging Face initialises a fresh Llama: every matrix and embedding
 * N(0, σ²) with σ = {@code initializer_range} (0.02), norm gains 1, biases 0. The generator is Java's
 * (SplittableRandom, seeded), so the same seed gives the same weights on every engine, device and JVM.
 */
public final class ModelInit {
    public static final double DEFAULT_STD = 0.02;

    private ModelInit() {
    }

    /**
     * Every tensor the architecture reads, under its Hugging Face name, in {@code manager} as float32.
     *
     * @param randomBiases draw biases like matrices instead of zeros (test fixtures, so a bias that is ignored shows)
     */
    public static Map<String, NDArray> randomWeights(ModelConfig config, long seed, double std, boolean randomBiases, NDManager manager) {
        Map<String, NDArray> w = new LinkedHashMap<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (var e : ModelRegistry.lookup(config.architecture()).expectedTensors(config).entrySet()) {
            String name = e.getKey();
            Shape shape = new Shape(e.getValue());
            if (name.endsWith("norm.weight")) {
                w.put(name, manager.ones(shape));
            } else if (name.endsWith(".bias") && !randomBiases) {
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
        return ModelRegistry.lookup(config.architecture()).build(config, randomWeights(config, seed, DEFAULT_STD, false, manager), manager);
    }
}
