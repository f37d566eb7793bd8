package io.loupe.unlearn.metrics;

import io.loupe.TestData;
import io.loupe.model.ModelConfig;
import io.loupe.tokenize.PromptTokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe reads the token before the fact: on the stories260k tokenizer, the tokens from that index on spell the fact. */
class ProbePositionTest {
    @Test
    void valueStartsWhereTheFactIsSpelled() throws Exception {
        var dir = TestData.stories();
        ModelConfig cfg = ModelConfig.read(dir.resolve("config.json"));
        try (PromptTokenizer tok = PromptTokenizer.load(dir, cfg)) {
            for (String[] qa : new String[][]{{"What pet does Bimo have?", "Bimo has a pet turtle.", "turtle"},
                {"Where does Kira live?", "Kira lives in Green Hill.", "Green Hill"}}) {
                ScoreExample e = new ScoreExample("x", null, null, null, qa[0], qa[1], null, List.of(), qa[2]);
                long[] ids = tok.encode(e.text());
                int at = RepresentationPass.valueStart(tok, e, ids);
                assertTrue(at > 0, qa[1]);
                String rest = tok.decode(Arrays.copyOfRange(ids, at, ids.length)).strip();
                assertTrue(rest.startsWith(qa[2]), "from the value's first token: '" + rest + "'");
                String before = tok.decode(Arrays.copyOfRange(ids, 0, at));
                assertTrue(before.endsWith(qa[1].substring(0, qa[1].lastIndexOf(qa[2])).strip()), "up to it: '" + before + "'");
            }
            ScoreExample missing = new ScoreExample("y", null, null, null, "Who?", "Nobody knows.", null, List.of(), "Tom");
            assertEquals(-1, RepresentationPass.valueStart(tok, missing, tok.encode(missing.text())));
        }
    }
}
