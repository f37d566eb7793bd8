package io.loupe.unlearn;

import io.loupe.model.Generator;
import io.loupe.model.LanguageModel;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.train.QaFormat;
import io.loupe.unlearn.metrics.ScoreExample;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether a model can state the facts: the share of QA examples whose greedy answer to {@code Question: q\nAnswer:}
 * (up to {@code maxNewTokens}, cut at the first newline) contains the fact's value, case-insensitively. A quick,
 * readable check that a fine-tune taught the facts and that unlearning removed them.
 */
public final class FactRecall {
    private FactRecall() {
    }

    /** NaN when no example has a question and a value. */
    public static double accuracy(LanguageModel model, PromptTokenizer tok, List<ScoreExample> examples, int maxNewTokens, int batchSize) {
        List<ScoreExample> qa = examples.stream().filter(e -> e.isQa() && e.value() != null).toList();
        if (qa.isEmpty()) {
            return Double.NaN;
        }
        int right = 0;
        for (int from = 0; from < qa.size(); from += batchSize) {
            List<ScoreExample> b = qa.subList(from, Math.min(qa.size(), from + batchSize));
            List<long[]> prompts = new ArrayList<>();
            for (ScoreExample e : b) {
                prompts.add(tok.encode(QaFormat.prompt(e.question())));
            }
            List<long[]> answers = Generator.greedy(model, prompts, maxNewTokens, model.config().eosTokenId());
            for (int i = 0; i < b.size(); i++) {
                String text = tok.decode(answers.get(i));
                int nl = text.indexOf('\n');
                text = (nl >= 0 ? text.substring(0, nl) : text).toLowerCase(Locale.ROOT);
                if (text.contains(b.get(i).value().toLowerCase(Locale.ROOT))) {
                    right++;
                }
            }
        }
        return (double) right / qa.size();
    }
}
