package io.loupe.cli;

import com.google.gson.JsonParser;
import io.loupe.TestData;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No per-family code in jobs: sparsity (a GELU MLP without gate, or Gemma's gated one), circuits (head patching through
 * each family's attention) and collect run unchanged on the GPT-2, NeoX and Gemma-2 fixtures.
 */
class FamiliesCommandTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-neox", "tiny-gemma2"})
    void sparsityCircuitsAndCollectRunOnEveryFamily(String fixture, @TempDir Path tmp) throws IOException {
        Path shared = TestData.shared(), model = shared.resolve("models").resolve(fixture);
        Path prompts = shared.resolve("testvectors").resolve(fixture).resolve("prompts.jsonl");
        Path sp = tmp.resolve("sparsity");
        assertEquals(0, Loupe.execute("sparsity", "--model", model.toString(), "--prompts", prompts.toString(), "--cett", "0.2", "--out", sp.toString(),
                "--master", "local[2,4]"));
        var summary = JsonParser.parseString(Files.readString(sp.resolve("summary.json"))).getAsJsonObject();
        for (var layer : summary.getAsJsonArray("layers")) {
            double ratio = layer.getAsJsonObject().get("activation_ratio").getAsDouble(), cett = layer.getAsJsonObject().get("cett").getAsDouble();
            assertTrue(ratio > 0 && ratio < 1 && cett <= 0.2 + 1e-9, fixture + ": " + layer);
        }
        Path circ = tmp.resolve("circuits");
        assertEquals(0, Loupe.execute("circuits", "--model", model.toString(), "--task", "induction", "--examples", "4", "--induction-half", "4",
                "--nodes", "head,mlp_out", "--method", "patch,attrib", "--out", circ.toString(), "--master", "local[2,4]"));
        assertTrue(Files.readString(circ.resolve("summary.json")).contains("\"faithfulness\""));
        Path acts = tmp.resolve("acts");
        assertEquals(0, Loupe.execute("collect", "--input", prompts.toString(), "--model", model.toString(), "--hooks",
                "blocks.1.mlp.hook_post,blocks.2.hook_resid_post", "--out", acts.toString(), "--master", "local[2,4]"));
        assertTrue(Files.readString(acts.resolve("_loupe.json")).contains("blocks.1.mlp.hook_post"));
    }
}
