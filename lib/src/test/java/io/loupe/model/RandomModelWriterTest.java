package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.TensorDtype;
import io.loupe.tokenize.PromptTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomModelWriterTest {
    private static final long[] TOKENS = {1, 5, 300, 41, 7};

    private static RandomModelWriter writer(long seed, boolean bias, TensorDtype dtype, int shards) {
        return new RandomModelWriter(2, 64, 4, 2, 96, 320, seed, true, bias, dtype, shards);
    }

    @Test
    void shardedIndexLoadsToTheSameModelAsOneFile(@TempDir Path dir) throws IOException {
        writer(3, false, TensorDtype.F32, 1).write(dir.resolve("one"));
        writer(3, false, TensorDtype.F32, 3).write(dir.resolve("three"));
        assertTrue(Files.exists(dir.resolve("three/model.safetensors.index.json")));
        assertTrue(Files.exists(dir.resolve("three/model-00003-of-00003.safetensors")));
        assertArrayEquals(logits(dir.resolve("one")), logits(dir.resolve("three")));
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights(@TempDir Path dir) throws IOException {
        writer(5, false, TensorDtype.F32, 1).write(dir.resolve("a"));
        writer(5, false, TensorDtype.F32, 1).write(dir.resolve("b"));
        writer(6, false, TensorDtype.F32, 1).write(dir.resolve("c"));
        assertArrayEquals(logits(dir.resolve("a")), logits(dir.resolve("b")));
        assertTrue(!java.util.Arrays.equals(logits(dir.resolve("a")), logits(dir.resolve("c"))));
    }

    @Test
    void bfloat16AndFloat16ModelsLoadAsTheirRoundedFloat32Weights(@TempDir Path dir) throws IOException {
        writer(4, false, TensorDtype.F32, 1).write(dir.resolve("f32"));
        for (TensorDtype half : new TensorDtype[]{TensorDtype.BF16, TensorDtype.F16}) {
            Path d = dir.resolve(half.name());
            writer(4, false, half, 1).write(d);
            assertEquals(half.name(), SafetensorsFile.open(d.resolve("model.safetensors")).entry("model.embed_tokens.weight").dtype());
            try (NDManager m = Runtime.newManager(Device.cpu())) {
                String name = "model.layers.1.mlp.down_proj.weight";
                NDArray full = SafetensorsFile.open(dir.resolve("f32/model.safetensors")).load(m, name, DataType.FLOAT32);
                NDArray loaded = SafetensorsFile.open(d.resolve("model.safetensors")).load(m, name, DataType.FLOAT32);
                float[] want = full.toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    want[i] = half == TensorDtype.BF16 ? Float.intBitsToFloat(io.loupe.tensor.Bfloat16.round(want[i]) << 16)
                            : full.getManager().create(want[i]).toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false).getFloat();
                }
                assertArrayEquals(want, loaded.toFloatArray());
            }
            assertTrue(java.util.Arrays.stream(box(logits(d))).allMatch(Float::isFinite));
        }
    }

    @Test
    void qwen2BiasEntersTheValues(@TempDir Path dir) throws IOException {
        // With one token, attention attends only to itself, so z = rmsnorm(embed) * g Wv^T + bv exactly.
        writer(11, true, TensorDtype.F32, 1).write(dir);
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            assertTrue(model.config().parts().qkvBias());
            HookPoint z = HookPoint.of(0, HookKind.ATTN_Z);
            Hooks h = Hooks.none().capture(z);
            model.forward(TokenBatch.of(m, List.of(new long[]{42}), 0), h);
            SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"));
            NDArray x = f.load(m, "model.embed_tokens.weight", DataType.FLOAT32).get(42);
            NDArray normed = x.div(x.square().mean().add(1e-5).sqrt()).mul(f.load(m, "model.layers.0.input_layernorm.weight", DataType.FLOAT32));
            NDArray v = f.load(m, "model.layers.0.self_attn.v_proj.weight", DataType.FLOAT32).matMul(normed)
                    .add(f.load(m, "model.layers.0.self_attn.v_proj.bias", DataType.FLOAT32));      // [kv * dh]
            NDArray want = v.reshape(2, 1, 16).repeat(1, 2).reshape(4, 16);                          // each kv head serves 2 query heads
            assertTrue(h.captured(z).reshape(4, 16).sub(want).abs().max().getFloat() < 1e-5);
            assertTrue(f.load(m, "model.layers.0.self_attn.v_proj.bias", DataType.FLOAT32).abs().sum().getFloat() > 0);
        }
    }

    @Test
    void generatedTokenizerEncodesAnyTextWithBos(@TempDir Path dir) throws IOException {
        writer(1, false, TensorDtype.F32, 1).write(dir);
        ModelConfig cfg = ModelConfig.read(dir.resolve("config.json"));
        try (PromptTokenizer tok = PromptTokenizer.load(dir, cfg)) {
            long[] ids = tok.encode("The cat sat. Ünïcode ok?");
            assertEquals(1, ids[0]);
            assertTrue(java.util.Arrays.stream(ids).allMatch(i -> i >= 0 && i < 320));
            assertEquals("The cat sat. Ünïcode ok?", tok.decode(ids));
        }
    }

    private static float[] logits(Path dir) throws IOException {
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            return model.forward(TokenBatch.of(m, List.of(TOKENS), 0), Hooks.none()).toFloatArray();
        }
    }

    private static Float[] box(float[] a) {
        Float[] out = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
