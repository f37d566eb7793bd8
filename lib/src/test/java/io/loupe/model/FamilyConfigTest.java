package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.TestData;
import io.loupe.hooks.Hooks;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Config fields that change the maths: read as the families define them, or refused by name; never silently wrong. */
class FamilyConfigTest {
    private static JsonObject config(String fixture) throws Exception {
        return JsonParser.parseString(Files.readString(TestData.shared().resolve("models").resolve(fixture).resolve("config.json"))).getAsJsonObject();
    }

    private static String refusal(JsonObject c) {
        return assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(c, Path.of("config.json"))).getMessage();
    }

    @Test
    void fixturesReadAsTheirFamiliesDefineThem() throws Exception {
        ModelConfig neox = ModelConfig.fromJson(config("tiny-neox"), Path.of("c"));
        assertEquals(8, neox.parts().rotaryDims(), "rotary_pct 0.25 of d_head 32");
        assertTrue(neox.parts().parallelResidual() && !neox.tieWordEmbeddings());
        ModelConfig seq = ModelConfig.fromJson(config("tiny-neox-seq"), Path.of("c"));
        assertEquals(12, seq.parts().rotaryDims());
        assertEquals(1000, seq.parts().rotaryBase());
        ModelConfig gemma = ModelConfig.fromJson(config("tiny-gemma2"), Path.of("c"));
        assertEquals(List.of(0, 2), gemma.parts().slidingLayers());
        assertEquals(6, gemma.parts().slidingWindow());
        assertEquals(5.0, gemma.parts().attnSoftcap());
        assertEquals(4.0, gemma.parts().finalSoftcap());
        assertEquals(1 / Math.sqrt(24), gemma.parts().attnScale(), 1e-15);
        assertEquals((float) Math.sqrt(64), gemma.parts().embedScale());
        ModelConfig gpt2 = ModelConfig.fromJson(config("tiny-gpt2"), Path.of("c"));
        assertTrue(gpt2.parts().learnedPositions() && gpt2.tieWordEmbeddings());
        assertEquals(128, gpt2.parts().maxPositions());
    }

    @Test
    void unsupportedSettingsAreRefusedByName() throws Exception {
        for (String fixture : new String[]{"tiny-neox", "tiny-gemma2"}) {
            JsonObject c = config(fixture);
            c.add("rope_scaling", JsonParser.parseString("{\"type\": \"linear\", \"factor\": 2.0}"));
            assertTrue(refusal(c).contains("rope_scaling"), fixture);
        }
        JsonObject g = config("tiny-gemma2");
        g.add("layer_types", JsonParser.parseString("[\"sliding_attention\", \"chunked_attention\", \"full_attention\"]"));
        assertTrue(refusal(g).contains("chunked_attention"));
        JsonObject gpt = config("tiny-gpt2");
        gpt.remove("n_embd");
        assertTrue(refusal(gpt).contains("missing field n_embd"));
        JsonObject act = config("tiny-neox");
        act.addProperty("hidden_act", "quick_gelu");
        assertTrue(refusal(act).contains("quick_gelu"));
    }

    /** GPT-2's learned positions stop at n_positions: a longer sequence is an error, not an out-of-range lookup. */
    @Test
    void gpt2RefusesSequencesLongerThanItsPositions() throws Exception {
        Path dir = TestData.shared().resolve("models/tiny-gpt2");
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            long[] ids = new long[129];
            java.util.Arrays.fill(ids, 300);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(TokenBatch.of(m, List.of(ids), 0), Hooks.none()));
            assertTrue(e.getMessage().contains("129 tokens exceeds the model's 128 learned positions"), e.getMessage());
        }
    }

    /** GPT-2's scale_attn_by_inverse_layer_idx is implemented, not refused: it changes the logits. */
    @Test
    void inverseLayerScalingIsHonoured(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path src = TestData.shared().resolve("models/tiny-gpt2");
        for (String f : new String[]{"config.json", "model.safetensors"}) {
            Files.copy(src.resolve(f), tmp.resolve(f));
        }
        JsonObject c = config("tiny-gpt2");
        c.addProperty("scale_attn_by_inverse_layer_idx", true);
        Files.writeString(tmp.resolve("config.json"), c.toString());
        long[] ids = {403, 407, 261, 378, 432};
        try (LanguageModel a = ModelLoader.load(src, Device.cpu()); LanguageModel b = ModelLoader.load(tmp, Device.cpu());
             NDManager m = a.manager().newSubManager()) {
            assertTrue(b.config().parts().attnScaleByLayer());
            float diff = a.forward(TokenBatch.of(m, List.of(ids), 0), Hooks.none()).sub(b.forward(TokenBatch.of(m, List.of(ids), 0), Hooks.none()))
                    .abs().max().getFloat();
            assertTrue(diff > 1e-3, "layers past the first score differently: " + diff);
        }
    }
}
