package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.TestData;
import io.loupe.forward.ForwardRunner;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.hooks.HookPoint;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.SafetensorsStream;
import io.loupe.tokenize.PromptTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** stories260k against the independent numpy reference: every prompt, every stored tensor, max abs error <= 1e-4. */
class ReferenceVectorsTest {
    private static final double TOL = 1e-4;
    private static LanguageModel model;
    private static SafetensorsFile reference;
    private static List<Prompt> prompts;
    private static List<HookPoint> hooks;

    @BeforeAll
    static void load() throws IOException {
        Path shared = TestData.sharedOrNull();
        if (shared == null) {
            return;
        }
        model = ModelLoader.load(TestData.stories(), Device.cpu());
        reference = SafetensorsFile.open(TestData.vectors().resolve("reference.safetensors"));
        prompts = PromptReader.readJsonl(TestData.vectors().resolve("prompts.jsonl"));
        TreeSet<HookPoint> names = new TreeSet<>();
        for (String key : reference.entries().keySet()) {
            String rest = key.substring(key.indexOf('.') + 1);
            if (!rest.equals("logits")) {
                names.add(HookPoint.parse(rest));
            }
        }
        hooks = new ArrayList<>(names);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void everyTensorMatchesOnePromptAtATime(@TempDir Path tmp) throws IOException {
        compareAll(1, tmp);
    }

    @Test
    void everyTensorMatchesInPaddedBatches(@TempDir Path tmp) throws IOException {
        compareAll(4, tmp);   // four prompts of lengths 16..30 in one right-padded batch
    }

    private void compareAll(int batchSize, Path tmp) throws IOException {
        TestData.shared();
        assertTrue(hooks.size() >= 5 * 7, "reference should hold seven hook kinds per layer, found " + hooks);
        Path out = tmp.resolve("out.safetensors");
        try (SafetensorsStream stream = new SafetensorsStream(out, ForwardRunner.outputNames(prompts, hooks), Map.of())) {
            ForwardRunner.run(model, null, prompts, hooks, batchSize, stream, s -> { });
            stream.finish();
        }
        SafetensorsFile ours = SafetensorsFile.open(out);
        assertEquals(reference.entries().keySet(), ours.entries().keySet());
        int compared = 0;
        for (String name : reference.entries().keySet()) {
            assertArrayEquals(reference.entry(name).shape(), ours.entry(name).shape(), name);
            double err = TestData.maxAbsDiff(TestData.floats(reference, name), TestData.floats(ours, name));
            assertTrue(err <= TOL, name + ": max abs error " + err + " > " + TOL + " (batch size " + batchSize + ")");
            compared++;
        }
        assertEquals(prompts.size() * (1 + hooks.size()), compared);
    }

    @Test
    void tokenizerReproducesReferenceIds() throws IOException {
        TestData.shared();
        try (PromptTokenizer tok = PromptTokenizer.load(TestData.stories(), model.config())) {
            for (String line : java.nio.file.Files.readAllLines(TestData.vectors().resolve("prompts.jsonl"))) {
                var o = com.google.gson.JsonParser.parseString(line).getAsJsonObject();
                long[] want = new com.google.gson.Gson().fromJson(o.get("token_ids"), long[].class);
                assertArrayEquals(want, tok.encode(o.get("text").getAsString()), o.get("id").getAsString());
            }
        }
    }

    @Test
    void greedyTextFromBosIsTheKnownStory() throws IOException {
        TestData.shared();
        long[] ids = Generator.greedy(model, new long[]{1}, 24, 2);
        try (PromptTokenizer tok = PromptTokenizer.load(TestData.stories(), model.config())) {
            String text = tok.decode(ids);
            assertTrue(text.startsWith("Once upon a time, there was a little girl named Lily."), text);
        }
    }

    @Test
    void leftAndRightPaddingGiveTheSameRealPositions() {
        TestData.shared();
        long[] a = prompts.get(0).tokenIds();
        long[] padLeft = new long[a.length + 5];
        System.arraycopy(a, 0, padLeft, 5, a.length);
        try (NDManager m = model.manager().newSubManager()) {
            long[][] mask = new long[1][padLeft.length];
            for (int t = 5; t < padLeft.length; t++) {
                mask[0][t] = 1;
            }
            TokenBatch left = new TokenBatch(m.create(new long[][]{padLeft}), m.create(mask), new int[]{a.length});
            NDArray l = model.forward(left, io.loupe.hooks.Hooks.none()).get("0, 5:");
            NDArray r = model.forward(TokenBatch.of(m, List.of(a), 0), io.loupe.hooks.Hooks.none()).get(0);
            assertTrue(l.sub(r).abs().max().getFloat() <= TOL);
        }
    }
}
