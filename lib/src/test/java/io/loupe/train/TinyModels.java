package io.loupe.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.model.LanguageModel;
import io.loupe.model.MlpActivation;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelInit;
import io.loupe.model.Runtime;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Tiny models and corpora for training tests that run in seconds without ../shared. */
public final class TinyModels {
    private TinyModels() {
    }

    /** 2 layers, d 32, 4 heads over 2 kv heads (d_head 8), d_mlp 64, vocab 64. */
    public static ModelConfig config(boolean tied, MlpActivation act) {
        return ModelConfig.llama("LlamaForCausalLM", 32, 64, 2, 4, 2, 8, 64, 1e-5, 10000, tied, false, 1, 2, act);
    }

    public static LanguageModel fresh(ModelConfig c, long seed) {
        return ModelInit.build(c, seed, Runtime.newManager(Device.cpu()));
    }

    /** {@code n} random sequences of {@code len} tokens starting with BOS (1), ids in 3..vocab-1. */
    public static List<TrainSequence> randomSequences(int n, int len, int vocab, long seed) {
        Random r = new Random(seed);
        List<TrainSequence> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long[] ids = new long[len];
            ids[0] = 1;
            for (int t = 1; t < len; t++) {
                ids[t] = 3 + r.nextInt(vocab - 3);
            }
            out.add(new TrainSequence("s" + i, ids, 1));
        }
        return out;
    }

    /** The trained parameters' bytes, by parameter name (what {@link #load} restores into a fresh model). */
    public static Map<String, byte[]> parameterBytes(LanguageModel model) {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            ByteBuffer b = e.getValue().toByteBuffer();
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            out.put(e.getKey(), bytes);
        }
        return out;
    }

    /** Sets every parameter of {@code model} from {@link #parameterBytes} of another model of the same config. */
    public static void load(LanguageModel model, Map<String, byte[]> parameters) {
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            java.nio.FloatBuffer f = ByteBuffer.wrap(parameters.get(e.getKey())).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
            float[] v = new float[f.remaining()];
            f.get(v);
            e.getValue().set(v);
        }
    }

    /** The weights' bytes, by Hugging Face name, for exact comparisons. */
    public static Map<String, byte[]> weightBytes(LanguageModel model) {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (NDManager m = model.manager().newSubManager()) {
            for (Map.Entry<String, NDArray> e : model.huggingFaceWeights(m).entrySet()) {
                ByteBuffer b = e.getValue().toByteBuffer();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.put(e.getKey(), bytes);
            }
        }
        return out;
    }
}
