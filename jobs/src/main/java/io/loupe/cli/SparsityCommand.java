package io.loupe.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.Runtime;
import io.loupe.sparsity.SparsityRunner;
import io.loupe.tokenize.PromptTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code loupe sparsity}: activation sparsity per layer at a CETT target or at PPL-p%, for one or more models. */
@Command(name = "sparsity", mixinStandardHelpOptions = true,
        description = {"Measures activation sparsity over a prompt set: per layer the nonzero fraction, CETT threshold and activation",
                "ratio, dead neurons and massive activations; overall activation ratio; at --cett or at the target found by --ppl-p.",
                "Writes <out>/summary.json (one entry per model). Models run one after another on this machine for now."})
final class SparsityCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, split = ",", description = "Model directory, or several (e.g. checkpoints).")
    List<Path> models;
    @Option(names = "--prompts", required = true, description = "JSONL prompts ({id, text} or {id, token_ids}).")
    Path prompts;

    static final class Target {
        @Option(names = "--cett", description = "CETT target shared by all layers, e.g. 0.2.")
        Double cett;
        @Option(names = "--ppl-p", description = "Find the CETT target whose sparsification raises perplexity by this fraction, e.g. 0.01.")
        Double pplP;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;
    @Option(names = "--eps", defaultValue = "0", description = "|x| > eps counts as active (default: ${DEFAULT-VALUE}).")
    double eps;
    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-seq-len", defaultValue = "512", description = "Keep each prompt's first tokens (default: ${DEFAULT-VALUE}).")
    int maxSeqLen;
    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
        List<Prompt> list = PromptReader.readJsonl(prompts);
        List<Map<String, Object>> entries = new ArrayList<>();
        for (Path dir : models) {
            try (LanguageModel m = ModelLoader.load(dir, Runtime.device("auto")); NDManager nd = m.manager().newSubManager();
                 PromptTokenizer tok = list.stream().anyMatch(p -> p.tokenIds() == null) ? PromptTokenizer.load(dir, m.config()) : null) {
                List<long[]> seqs = new ArrayList<>();
                for (Prompt p : list) {
                    long[] ids = p.tokens(tok, m.config().vocabSize());
                    seqs.add(ids.length > maxSeqLen ? java.util.Arrays.copyOf(ids, maxSeqLen) : ids);
                }
                SparsityRunner runner = new SparsityRunner(m, seqs, batchSize, eps, nd);
                SparsityRunner.Report r = target.pplP != null ? runner.pplP(target.pplP, 1e-3) : runner.atCett(target.cett);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("model", dir.toString());
                e.put("tokens", r.tokens());
                e.put("cett_target", r.cettTarget());
                e.put("ppl_p", r.pplP());
                e.put("loss_dense", r.lossDense());
                e.put("loss_sparse", r.lossSparse());
                e.put("ppl_ratio", Math.exp(r.lossSparse() - r.lossDense()));
                e.put("activation_ratio", r.overallActivationRatio());
                List<Map<String, Object>> layers = new ArrayList<>();
                for (SparsityRunner.Layer l : r.layers()) {
                    Map<String, Object> lm = new LinkedHashMap<>();
                    lm.put("layer", l.layer());
                    lm.put("nonzero_fraction", l.nonzeroFraction());
                    lm.put("threshold", l.threshold());
                    lm.put("cett", l.cett());
                    lm.put("activation_ratio", l.activationRatio());
                    lm.put("dead_neurons", l.deadNeurons());
                    lm.put("massive_top3", l.massiveTop3());
                    lm.put("massive_median", l.massiveMedian());
                    lm.put("massive_flagged", l.massiveFlagged());
                    layers.add(lm);
                }
                e.put("layers", layers);
                entries.add(e);
                Console.info(String.format("sparsity: %s: CETT target %.3f, activation ratio %.3f, PPL ratio %.4f over %d tokens", dir,
                        r.cettTarget(), r.overallActivationRatio(), Math.exp(r.lossSparse() - r.lossDense()), r.tokens()));
            }
        }
        Files.createDirectories(out);
        Map<String, Object> summary = entries.size() == 1 ? entries.get(0) : Map.of("models", entries);
        Files.writeString(out.resolve("summary.json"),
                new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().serializeNulls().create().toJson(summary) + "\n");
        Console.info("sparsity: wrote " + out.resolve("summary.json"));
        return 0;
    }
}
