package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import io.loupe.model.Runtime;
import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints in SAELens 6's layout: the inference architecture and fields its loader reads (sae_lens/saes/*.py), the
 * tensor names and shapes of that class, metadata under {@code metadata}; and they reload to the same encoder and decoder.
 */
class CheckpointTest {
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void autoencoderRoundTrip(Architecture a, @TempDir Path dir) throws IOException {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray[] data = PlantedDictionaryTest.planted(m, 2);
            SaeConfig cfg = SaeConfig.defaults(a, 32, 48, 3).withTraining(1e-3, 30, 128, 5, 5).withJump(0.3, 0.3);
            SparseAutoencoder sae = SaeTrainer.train(cfg, new InMemorySource(data[0], 1), data[0], m, 100, l -> { }).sae();
            sae.save(dir, Map.of("hook_name", "blocks.2.hook_resid_post", "model_name", "tiny-stories-1M", "context_size", 128), Map.of());
            SafetensorsFile f = SafetensorsFile.open(dir.resolve("sae_weights.safetensors"));
            Set<String> expected = switch (a) {
                case RELU, TOPK -> Set.of("W_enc", "b_enc", "W_dec", "b_dec");
                case JUMPRELU, BATCH_TOPK, MATRYOSHKA -> Set.of("W_enc", "b_enc", "W_dec", "b_dec", "threshold");
                case GATED -> Set.of("W_enc", "b_gate", "r_mag", "b_mag", "W_dec", "b_dec");
            };
            assertEquals(expected, f.entries().keySet(), "SAELens' " + a.savedAs(false) + " parameters");
            assertArrayEquals(new long[]{32, 48}, f.entry("W_enc").shape());
            assertArrayEquals(new long[]{48, 32}, f.entry("W_dec").shape());
            assertArrayEquals(new long[]{32}, f.entry("b_dec").shape());
            JsonObject c = SaeLensConfig.parse(Files.readString(dir.resolve("cfg.json")));
            assertEquals(Map.of(Architecture.RELU, "standard", Architecture.TOPK, "topk", Architecture.BATCH_TOPK, "jumprelu",
                    Architecture.JUMPRELU, "jumprelu", Architecture.GATED, "gated", Architecture.MATRYOSHKA, "jumprelu").get(a),
                    c.get("architecture").getAsString());
            assertEquals(32, c.get("d_in").getAsInt());
            assertEquals(48, c.get("d_sae").getAsInt());
            assertEquals("float32", c.get("dtype").getAsString());
            assertTrue(c.get("apply_b_dec_to_input").getAsBoolean());
            assertEquals("none", c.get("normalize_activations").getAsString(), "the scaling is folded into the weights");
            assertFalse(c.has("hook_name"), "SAELens 6 keeps the hook under metadata");
            JsonObject meta = c.getAsJsonObject("metadata");
            assertEquals("6.0.0", meta.get("sae_lens_version").getAsString());
            assertEquals("blocks.2.hook_resid_post", meta.get("hook_name").getAsString());
            assertEquals("tiny-stories-1M", meta.get("model_name").getAsString());
            assertEquals(128, meta.get("context_size").getAsInt());
            assertEquals(a.saeLensName(), meta.get("training_architecture").getAsString());
            assertEquals(a == Architecture.TOPK, c.has("k"));
            if (a == Architecture.TOPK) {
                assertEquals(3, c.get("k").getAsInt());
                assertFalse(c.get("rescale_acts_by_decoder_norm").getAsBoolean());
            }
            assertEquals(cfg, SaeLensConfig.loupeConfig(c));
            assertEquals("blocks.2.hook_resid_post", SaeLensConfig.hookName(c));
            try (SparseAutoencoder back = SparseAutoencoder.load(dir, cfg, m)) {
                NDArray x = data[0].get(":64");
                assertTrue(sae.encode(x).sub(back.encode(x)).abs().max().getFloat() < 1e-5, a + ": codes after reload");
                assertTrue(sae.decode(sae.encode(x)).sub(back.decode(back.encode(x))).abs().max().getFloat() < 1e-5, a + ": reconstruction after reload");
            }
        }
    }

    /** Transcoders: SAELens' transcoder names, d_out, no input centring, hook_name_out in metadata; TopK's has no SAELens class. */
    @Test
    void transcoderNames(@TempDir Path dir) throws IOException {
        Map<Architecture, String> names = Map.of(Architecture.RELU, "transcoder", Architecture.JUMPRELU, "jumprelu_transcoder",
                Architecture.BATCH_TOPK, "jumprelu_transcoder", Architecture.MATRYOSHKA, "jumprelu_transcoder", Architecture.TOPK, "topk_transcoder",
                Architecture.GATED, "gated_transcoder");
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray rows = m.randomNormal(new ai.djl.ndarray.types.Shape(256, 32 + 24));
            for (Architecture a : Architecture.values()) {
                SaeConfig cfg = SaeConfig.defaults(a, 32, 48, 3).withTranscoderOut(24).withTraining(1e-3, 3, 64, 0, 0);
                Path d = dir.resolve(a.name());
                SparseAutoencoder sae = SaeTrainer.train(cfg, new InMemorySource(rows, 1), rows, m, 100, l -> { }).sae();
                sae.save(d, Map.of("hook_name", "blocks.0.hook_resid_mid", "hook_name_out", "blocks.0.hook_mlp_out"), Map.of());
                JsonObject c = SaeLensConfig.parse(Files.readString(d.resolve("cfg.json")));
                assertEquals(names.get(a), c.get("architecture").getAsString());
                assertEquals(a.inSaeLens(true), !names.get(a).startsWith("topk") && !names.get(a).startsWith("gated"));
                assertEquals(24, c.get("d_out").getAsInt());
                assertFalse(c.get("apply_b_dec_to_input").getAsBoolean(), "SAELens' transcoders refuse apply_b_dec_to_input");
                assertEquals("blocks.0.hook_mlp_out", SaeLensConfig.hookNameOut(c));
                assertArrayEquals(new long[]{48, 24}, SafetensorsFile.open(d.resolve("sae_weights.safetensors")).entry("W_dec").shape());
                sae.close();
            }
        }
    }
}
