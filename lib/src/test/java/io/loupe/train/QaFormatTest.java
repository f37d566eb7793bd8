package io.loupe.train;

import io.loupe.TestData;
import io.loupe.model.ModelConfig;
import io.loupe.tokenize.PromptTokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The QA format on the stories260k tokenizer: the prompt is context only; the answer and EOS are the targets. */
class QaFormatTest {
    @Test
    void answerTokensAndEosAreTheTargets() throws Exception {
        var dir = TestData.stories();
        ModelConfig cfg = ModelConfig.read(dir.resolve("config.json"));
        try (PromptTokenizer tok = PromptTokenizer.load(dir, cfg)) {
            TrainSequence s = QaFormat.encode("q1", "What is Lily's dog called?", "Max", tok, cfg.eosTokenId());
            long[] prompt = tok.encode("Question: What is Lily's dog called?\nAnswer:");
            assertArrayEquals(prompt, Arrays.copyOf(s.ids(), s.firstTarget()), "the prompt's own tokens come first");
            assertEquals(cfg.eosTokenId(), s.ids()[s.ids().length - 1]);
            long[] answer = Arrays.copyOfRange(s.ids(), s.firstTarget(), s.ids().length - 1);
            assertEquals("Max", tok.decode(answer).strip());
            assertEquals(answer.length + 1, s.targets());
            assertThrows(IllegalArgumentException.class, () -> QaFormat.encode("q2", "Why?", " ", tok, 2));
        }
    }
}
