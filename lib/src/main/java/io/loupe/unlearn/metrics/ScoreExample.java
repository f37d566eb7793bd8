package io.loupe.unlearn.metrics;

import io.loupe.train.QaFormat;

import java.util.List;

/**
 * One example of an unlearning split, as the score reads it. Every example has a {@link #text} for membership
 * inference: the row's {@code text}, else {@code prompt + " " + gt} (MUSE's VerbMem fields), else the QA text in
 * {@link QaFormat}. QA fields drive TOFU's metrics and KnowMem; prompt/gt drive VerbMem.
 *
 * @param perturbed wrong answers for the truth ratio (empty: those metrics are skipped for this row)
 * @param value     the fact the answer states (probe labels, concept tokens), or null
 */
public record ScoreExample(String id, String text, String prompt, String gt, String question, String answer, String paraphrased,
                           List<String> perturbed, String value) implements java.io.Serializable {
    public ScoreExample {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("an example has no id");
        }
        perturbed = perturbed == null ? List.of() : List.copyOf(perturbed);
        if (text == null) {
            if (prompt != null && gt != null) {
                text = prompt + " " + gt;
            } else if (question != null && answer != null) {
                text = QaFormat.text(question, answer);
            } else {
                throw new IllegalArgumentException("example '" + id + "' needs text, prompt + gt, or question + answer");
            }
        }
        if (question != null && answer == null) {
            throw new IllegalArgumentException("example '" + id + "' has a question but no answer");
        }
    }

    public boolean isQa() {
        return question != null;
    }

    public boolean hasVerbatim() {
        return prompt != null && gt != null;
    }
}
