package io.loupe.unlearn.metrics;

/**
 * Every per-example figure of one model on one example (NaN where a figure does not apply: QA figures on text rows,
 * VerbMem without prompt/gt, truth ratio without perturbed answers, the reference attack without a reference).
 *
 * @param tokens          scored tokens (every token after BOS)
 * @param nll             LOSS: mean NLL of the scored tokens
 * @param zlib            LOSS / zlib-compressed length
 * @param minK            Min-K% per configured k
 * @param minKPlusPlus    Min-K%++ per configured k
 * @param referenceNll    the reference model's LOSS on the same text
 * @param answerLoss      mean NLL per token of the answer and EOS after the question
 * @param answerProb      {@code exp(−answerLoss)}: TOFU's length-normalised answer probability
 * @param truthRatio      TOFU's R
 * @param rougeRecall     ROUGE-L recall of the greedy answer against the answer (TOFU)
 * @param knowMemF1       ROUGE-L F1 of the few-shot greedy answer (MUSE KnowMem)
 * @param verbMemF1       ROUGE-L F1 of the greedy continuation of {@code prompt} against {@code gt} (MUSE VerbMem)
 * @param generated       the greedy answer (or continuation) text, for inspection
 */
public record ExampleScores(String id, int tokens, double nll, double zlib, double[] minK, double[] minKPlusPlus, double referenceNll,
                            double answerLoss, double answerProb, double paraphrasedLoss, double perturbedLoss, double truthRatio,
                            double rougeRecall, double knowMemF1, double verbMemF1, String generated) implements java.io.Serializable {

    /** The reference attack: {@code LOSS_model − LOSS_reference}. */
    public double referenceScore() {
        return nll - referenceNll;
    }
}
