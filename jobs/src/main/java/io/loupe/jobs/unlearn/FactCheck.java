package io.loupe.jobs.unlearn;

import com.google.gson.JsonObject;
import io.loupe.jobs.ExecutorModels;
import io.loupe.model.LanguageModel;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.train.NextTokenObjective;
import io.loupe.train.QaFormat;
import io.loupe.train.TrainSequence;
import io.loupe.unlearn.FactRecall;
import io.loupe.unlearn.metrics.ScoreExample;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;

/**
 * Did a model learn (or lose) the facts? Per model, one Spark task: mean NLL per target token of the forget and retain
 * rows (text rows on every token after BOS, QA rows on the answer and EOS) and {@link FactRecall} accuracy on their QA
 * rows. {@code unlearn prepare} shows with it that the target learned what the retrain model never saw.
 */
public final class FactCheck {
    private FactCheck() {
    }

    public static List<JsonObject> run(SparkSession spark, List<String> names, List<String> models, List<ScoreExample> forget, List<ScoreExample> retain) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            idx.add(i);
        }
        spark.sparkContext().setJobDescription("loupe: fact check of " + names);
        List<String> json = jsc.parallelize(idx, idx.size()).map(i -> {
            ExecutorModels.Loaded lm = ExecutorModels.get(models.get(i), ExecutorModels.taskDevice("auto"));
            JsonObject o = new JsonObject();
            o.addProperty("model", names.get(i));
            o.addProperty("forget_nll", NextTokenObjective.meanNll(lm.model(), sequences(forget, lm.tokenizer(), lm.model()), 0, 16));
            o.addProperty("retain_nll", NextTokenObjective.meanNll(lm.model(), sequences(retain, lm.tokenizer(), lm.model()), 0, 16));
            o.addProperty("forget_qa_accuracy", FactRecall.accuracy(lm.model(), lm.tokenizer(), forget, 24, 16));
            o.addProperty("retain_qa_accuracy", FactRecall.accuracy(lm.model(), lm.tokenizer(), retain, 24, 16));
            return o.toString();
        }).collect();
        List<JsonObject> out = new ArrayList<>();
        for (String j : json) {
            out.add(com.google.gson.JsonParser.parseString(j).getAsJsonObject());
        }
        return out;
    }

    /** Each example as a training sequence: QA rows in {@link QaFormat}, the others as text with every token after BOS a target. */
    static List<TrainSequence> sequences(List<ScoreExample> examples, PromptTokenizer tok, LanguageModel model) {
        List<TrainSequence> out = new ArrayList<>();
        for (ScoreExample e : examples) {
            out.add(e.isQa() ? QaFormat.encode(e.id(), e.question(), e.answer(), tok, model.config().eosTokenId())
                    : new TrainSequence(e.id(), tok.encode(e.text()), 1));
        }
        return out;
    }
}
