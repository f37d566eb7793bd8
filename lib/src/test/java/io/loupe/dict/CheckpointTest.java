package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.model.Runtime;
import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints use SAELens' tensor names and shapes and reload to the same encoder. */
class CheckpointTest {
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void saveLoadRoundTrip(Architecture a, @TempDir Path dir) throws IOException {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray[] data = PlantedDictionaryTest.planted(m, 2);
            SaeConfig cfg = SaeConfig.defaults(a, 32, 48, 3).withTraining(1e-3, 30, 128, 5, 5).withJump(0.1, 0.1);
            SparseAutoencoder sae = SaeTrainer.train(cfg, new InMemorySource(data[0], 1), data[0], m, 100, l -> { }).sae();
            sae.save(dir, Map.of("hook_name", "blocks.2.hook_resid_post", "model_name", "test"));
            SafetensorsFile f = SafetensorsFile.open(dir.resolve("sae_weights.safetensors"));
            assertArrayEquals(new long[]{32, 48}, f.entry("W_enc").shape());
            assertArrayEquals(new long[]{48, 32}, f.entry("W_dec").shape());
            assertArrayEquals(new long[]{48}, f.entry("b_enc").shape());
            assertArrayEquals(new long[]{32}, f.entry("b_dec").shape());
            assertEquals(a == Architecture.JUMPRELU || a == Architecture.BATCH_TOPK, f.entries().containsKey("threshold"));
            String cfgJson = Files.readString(dir.resolve("cfg.json"));
            assertTrue(cfgJson.contains("\"d_in\": 32") && cfgJson.contains("\"d_sae\": 48") && cfgJson.contains("\"hook_name\": \"blocks.2.hook_resid_post\"")
                    && cfgJson.contains("\"architecture\": \"" + a.saeLensName() + "\""), cfgJson);
            try (SparseAutoencoder back = SparseAutoencoder.load(dir, cfg, m)) {
                NDArray x = data[0].get(":64");
                assertTrue(sae.encode(x).sub(back.encode(x)).abs().max().getFloat() < 1e-5);
            }
        }
    }
}
