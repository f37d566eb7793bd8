package io.loupe.circuits;

import ai.djl.Device;
import io.loupe.TestData;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import io.loupe.tokenize.PromptTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Task files and the built-in generators. */
class TaskDatasetTest {
    private static final ModelConfig CFG = ModelConfig.llama("LlamaForCausalLM", 64, 128, 2, 4, 2, 16, 320, 1e-5, 1e4, false, false, 1, 2, io.loupe.model.MlpActivation.SILU);

    @Test
    void inductionRepeatsTheFirstCopyAndCorruptsIt() {
        List<TaskExample> ex = TaskGenerators.induction(CFG, 4, 6, 5, null);
        List<TaskExample> again = TaskGenerators.induction(CFG, 4, 6, 5, null);
        for (int i = 0; i < ex.size(); i++) {
            assertArrayEquals(ex.get(i).clean(), again.get(i).clean(), "deterministic for a seed");
        }
        for (TaskExample e : ex) {
            long[] c = e.clean(), x = e.corrupt();
            assertEquals(12, c.length);
            assertEquals(1, c[0]);
            assertArrayEquals(Arrays.copyOfRange(c, 1, 6), Arrays.copyOfRange(c, 7, 12), "second copy repeats the first");
            assertArrayEquals(Arrays.copyOfRange(c, 7, 12), Arrays.copyOfRange(x, 7, 12), "corrupt keeps the second copy");
            Set<Long> first = new HashSet<>(), other = new HashSet<>();
            for (int t = 1; t <= 6; t++) {
                first.add(c[t]);
                other.add(x[t]);
                assertTrue(c[t] >= 3 && c[t] != 2, "no special tokens");
            }
            assertEquals(6, first.size(), "distinct tokens");
            first.retainAll(other);
            assertTrue(first.isEmpty(), "the corrupt first copy shares no token with the clean one");
            assertEquals(c[6], e.answer());
            assertEquals(x[6], e.wrong());
            assertEquals(11, e.answerPos());
        }
        assertThrows(IllegalArgumentException.class, () -> TaskGenerators.induction(CFG, 1, 200, 0, null), "copies larger than the pool");
    }

    @Test
    void taskFileErrorsNameTheRow(@TempDir Path dir) throws IOException {
        Path ok = dir.resolve("ok.jsonl");
        Files.writeString(ok, "{\"clean\": [1, 5, 6], \"corrupt\": [1, 7, 6], \"answer\": 9, \"wrong\": 8}\n\n"
                + "{\"id\": \"b\", \"clean\": [1, 5, 6, 4], \"corrupt\": [1, 7, 6, 4], \"answer\": 9, \"wrong\": 8, \"answer_pos\": 1}\n");
        List<TaskExample> ex = TaskReader.read(ok, null, 320);
        assertEquals("row-1", ex.get(0).id());
        assertEquals(2, ex.get(0).answerPos(), "default: last position");
        assertEquals(1, ex.get(1).answerPos());

        assertError(dir, "{\"id\": \"x\", \"clean\": [1, 5, 6], \"corrupt\": [1, 7], \"answer\": 9, \"wrong\": 8}",
                "bad.jsonl:1", "example 'x'", "differ in length");
        assertError(dir, "{\"clean\": [1, 5], \"corrupt\": [1, 7], \"wrong\": 8}", "missing 'answer'");
        assertError(dir, "{\"clean\": [1, 5], \"corrupt\": [1, 7], \"answer\": 999, \"wrong\": 8}", "outside the vocabulary");
        assertError(dir, "{\"clean\": \"hi\", \"corrupt\": \"ho\", \"answer\": 3, \"wrong\": 8}", "no tokenizer.json");
        assertError(dir, "{\"clean\": [1, 5], \"corrupt\": [1, 7], \"answer\": 3, \"wrong\": 8, \"answer_pos\": 5}", "answer position 5");
        assertError(dir, "", "no examples");
        assertThrows(IllegalArgumentException.class, () -> TaskReader.read(dir.resolve("missing.jsonl"), null, 320));
    }

    @Test
    void ioiOnStoriesUsesSingleTokenNames() throws IOException {
        Path model = TestData.stories();
        try (LanguageModel lm = ModelLoader.load(model, Device.cpu()); PromptTokenizer tok = PromptTokenizer.load(model, lm.config())) {
            List<TaskExample> ex = TaskGenerators.ioi(tok, lm.config(), 8, 0, TaskGenerators.NAMES);
            assertEquals(8, ex.size());
            for (TaskExample e : ex) {
                assertNotEquals(e.answer(), e.wrong());
                int differing = 0;
                for (int t = 0; t < e.length(); t++) {
                    differing += e.clean()[t] != e.corrupt()[t] ? 1 : 0;
                }
                assertEquals(1, differing, "only the second mention of B changes: " + tok.decode(e.clean()) + " / " + tok.decode(e.corrupt()));
                String text = tok.decode(e.clean());
                String answer = tok.decode(new long[]{e.answer()}).trim();
                assertTrue(text.startsWith("When " + answer) || text.contains(" " + answer + " and") || text.contains(answer + " and"), text);
            }
            assertThrows(IllegalArgumentException.class, () -> TaskGenerators.ioi(tok, lm.config(), 2, 0, List.of("Lily", "Zzyzxq")));
            // text answers: the token the text adds after the clean prompt
            Path f = Files.createTempFile("task", ".jsonl");
            Files.writeString(f, "{\"clean\": \"Lily and Tim went out. Tim gave it to\", \"corrupt\": \"Lily and Tim went out. Lily gave it to\","
                    + " \"answer\": \" Lily\", \"wrong\": \" Tim\"}\n");
            TaskExample e = TaskReader.read(f, tok, lm.config().vocabSize()).get(0);
            assertEquals("Lily", tok.decode(new long[]{e.answer()}).trim());
            Files.writeString(f, "{\"clean\": \"Once upon\", \"corrupt\": \"Once upon\", \"answer\": \" a time\", \"wrong\": \" Tim\"}\n");
            IllegalArgumentException err = assertThrows(IllegalArgumentException.class, () -> TaskReader.read(f, tok, 512));
            assertTrue(err.getMessage().contains("not a single token"), err.getMessage());
        }
    }

    private static void assertError(Path dir, String line, String... parts) {
        Path f = dir.resolve("bad.jsonl");
        try {
            Files.writeString(f, line + "\n");
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TaskReader.read(f, null, 320));
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
        }
    }
}
