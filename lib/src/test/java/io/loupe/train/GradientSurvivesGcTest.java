package io.loupe.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import io.loupe.model.LanguageModel;
import io.loupe.model.MlpActivation;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import io.loupe.model.RandomModelWriter;
import io.loupe.model.Runtime;
import io.loupe.tensor.GcChurn;
import io.loupe.tensor.TensorDtype;
import io.loupe.unlearn.Method;
import io.loupe.unlearn.UnlearnSettings;
import io.loupe.unlearn.UnlearningObjective;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every training objective gives the same gradients, byte for byte, when the garbage collector runs between its forward
 * and backward passes ({@link GcChurn}). It fails on any differentiated op whose operand the backward pass reads from
 * memory that Java already dropped: before {@code Tensors.constant}, the attention scale, Gemma's soft-caps and
 * embedding scale, the tanh-GELU, the loss's 1/targets and every method's α and β came out as zeros or NaN.
 */
class GradientSurvivesGcTest {
    @ParameterizedTest
    @ValueSource(strings = {"llama", "gemma2"})
    void nextTokenObjectiveWithActivationL1(String family, @TempDir Path dir) throws Exception {
        new RandomModelWriter(2, 32, 4, 2, 48, 64, 5, false, false, TensorDtype.F32, 1, family).write(dir);
        List<TrainSequence> seqs = TinyModels.randomSequences(4, 10, 64, 3);
        TrainConfig cfg = TrainConfig.defaults(1e-3, 2, 1, 0).withGradAccum(2);
        Objective objective = new NextTokenObjective(TrainData.trainOnly(seqs), cfg);
        assertSameGradients(() -> ModelLoader.load(dir, Device.cpu()), (model, gc) -> objective.accumulate(model, 0, 0.5, gc), family);
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void unlearningObjectives(Method method) throws Exception {
        List<TrainSequence> forget = TinyModels.randomSequences(3, 10, 64, 7), retain = TinyModels.randomSequences(3, 9, 64, 8);
        ModelConfig config = TinyModels.config(false, MlpActivation.SILU);
        try (LanguageModel reference = TinyModels.fresh(config, 2)) {
            Objective objective = new UnlearningObjective(new UnlearnSettings(method, 0.7, 0.3, 1, 5, 3, 0), TrainData.trainOnly(forget),
                    TrainData.trainOnly(retain), reference);
            assertSameGradients(() -> TinyModels.fresh(config, 1), (model, gc) -> objective.accumulate(model, 0, 0, gc), method.toString());
        }
    }

    /** A model, fresh for each run (so no gradient is left over from the other). */
    interface ModelSource {
        LanguageModel open() throws Exception;
    }

    /** Runs {@code step} on two fresh models, plainly and with the collector churning before backward; the gradients must be identical. */
    private static void assertSameGradients(ModelSource models, BiFunction<LanguageModel, GradientCollector, Double> step, String what)
            throws Exception {
        Map<String, byte[]> plain, churned;
        try (LanguageModel model = models.open()) {
            plain = gradients(model, step, false);
        }
        try (LanguageModel model = models.open()) {
            churned = gradients(model, step, true);
        }
        assertEquals(plain.keySet(), churned.keySet());
        for (String name : plain.keySet()) {
            assertArrayEquals(plain.get(name), churned.get(name), what + ": the gradient of " + name + " changed when the GC ran before backward");
        }
    }

    private static Map<String, byte[]> gradients(LanguageModel model, BiFunction<LanguageModel, GradientCollector, Double> step, boolean churn) {
        Map<String, NDArray> params = model.parameters();
        params.values().forEach(p -> p.setRequiresGradient(true));
        Map<String, byte[]> out = new TreeMap<>();
        try {
            synchronized (Runtime.AUTOGRAD) {
                try (GradientCollector real = Runtime.engine().newGradientCollector()) {
                    step.apply(model, churn ? GcChurn.around(real) : real);
                }
            }
            for (Map.Entry<String, NDArray> e : params.entrySet()) {
                try (NDArray g = e.getValue().getGradient()) {
                    ByteBuffer b = g.toByteBuffer();
                    byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    out.put(e.getKey(), bytes);
                }
            }
        } finally {
            params.values().forEach(p -> p.setRequiresGradient(false));
        }
        return out;
    }
}
