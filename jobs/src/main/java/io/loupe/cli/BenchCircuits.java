package io.loupe.cli;

import ai.djl.Device;
import io.loupe.circuits.ActivationPatching;
import io.loupe.circuits.AttributionPatching;
import io.loupe.circuits.Direction;
import io.loupe.circuits.Node;
import io.loupe.circuits.NodeType;
import io.loupe.circuits.TaskExample;
import io.loupe.circuits.TaskGenerators;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code loupe bench circuits}: patching throughput over every head of the 25M random model, and attribution's speed-up. */
@Command(name = "circuits", mixinStandardHelpOptions = true,
        description = {"Activation patching over all heads (attn.hook_z, 8 layers x 8 heads) of the random 25M model on induction",
                "examples, in examples/s; then attribution patching of the same nodes and its speed-up. One process, after a warm-up."})
final class BenchCircuits implements Callable<Integer> {
    @Option(names = "--examples", defaultValue = "16", description = "Timed examples (default: ${DEFAULT-VALUE}).")
    int examples;
    @Option(names = "--half", defaultValue = "16", description = "Induction copy length; sequences are 2x this (default: ${DEFAULT-VALUE}).")
    int half;
    @Option(names = "--batch-size", defaultValue = "8", description = "Examples per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-rows", defaultValue = "256", description = "Sequences per patching pass (default: ${DEFAULT-VALUE}).")
    int maxRows;

    @Override
    public Integer call() throws Exception {
        try (LanguageModel model = ModelLoader.load(Workspace.benchModel25m(), Device.cpu())) {
            List<Node> heads = Node.enumerate(model.config(), List.of(NodeType.HEAD), 0);
            List<TaskExample> warm = TaskGenerators.induction(model.config(), batchSize, half, 99, null);
            List<TaskExample> ex = TaskGenerators.induction(model.config(), examples, half, 0, null);
            ActivationPatching.run(model, warm, heads, Direction.DENOISE, maxRows);
            AttributionPatching.run(model, warm, heads, Direction.DENOISE);

            long t0 = System.nanoTime();
            for (int from = 0; from < ex.size(); from += batchSize) {
                ActivationPatching.run(model, ex.subList(from, Math.min(ex.size(), from + batchSize)), heads, Direction.DENOISE, maxRows);
            }
            double patchSeconds = (System.nanoTime() - t0) / 1e9;
            int attribRounds = 5;
            long t1 = System.nanoTime();
            for (int round = 0; round < attribRounds; round++) {
                for (int from = 0; from < ex.size(); from += batchSize) {
                    AttributionPatching.run(model, ex.subList(from, Math.min(ex.size(), from + batchSize)), heads, Direction.DENOISE);
                }
            }
            double attribSeconds = (System.nanoTime() - t1) / 1e9 / attribRounds;
            double patchRate = examples / patchSeconds, attribRate = examples / attribSeconds;
            long tokens = (long) examples * heads.size() * 2 * half;
            System.out.printf("activation patching, %d heads, %d examples of %d tokens: %.2f examples/s (%.0f tokens/s as full forward passes; the patched runs skip the blocks before each node)%n",
                    heads.size(), examples, 2 * half, patchRate, tokens / patchSeconds);
            System.out.printf("attribution patching, same nodes: %.1f examples/s; speed-up %.1fx%n", attribRate, attribRate / patchRate);
        }
        return 0;
    }
}
