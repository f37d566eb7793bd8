package io.loupe.model;

import ai.djl.Device;
import io.loupe.TestData;
import io.loupe.forward.ForwardRunner;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.hooks.HookPoint;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.SafetensorsWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every family fixture of {@code ../shared/models} against the independent numpy reference ({@code peers/refarch.py},
 * which agrees with Hugging Face transformers to ~4e-6): every prompt, logits and every stored hook of every layer,
 * within 1e-4, one prompt at a time and in right-padded batches of four. The fixtures' soft-caps, window, rotary
 * fraction and norms are small enough that dropping or misreading any of them breaks the tolerance.
 */
class FamilyReferenceTest {
    private static final double TOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-hub", "tiny-neox", "tiny-neox-seq", "tiny-gemma2"})
    void everyTensorMatchesAlone(String fixture, @TempDir Path tmp) throws IOException {
        compare(fixture, 1, tmp);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-hub", "tiny-neox", "tiny-neox-seq", "tiny-gemma2"})
    void everyTensorMatchesInPaddedBatches(String fixture, @TempDir Path tmp) throws IOException {
        compare(fixture, 4, tmp);
    }

    private static void compare(String fixture, int batchSize, Path tmp) throws IOException {
        Path shared = TestData.shared();
        Path vectors = shared.resolve("testvectors").resolve(fixture);
        SafetensorsFile reference = SafetensorsFile.open(vectors.resolve("reference.safetensors"));
        List<Prompt> prompts = PromptReader.readJsonl(vectors.resolve("prompts.jsonl"));
        TreeSet<HookPoint> names = new TreeSet<>();
        for (String key : reference.entries().keySet()) {
            String rest = key.substring(key.indexOf('.') + 1);
            if (!rest.equals("logits")) {
                names.add(HookPoint.parse(rest));
            }
        }
        List<HookPoint> hooks = new ArrayList<>(names);
        try (LanguageModel model = ModelLoader.load(shared.resolve("models").resolve(fixture), Device.cpu())) {
            assertEquals(model.hookPoints().size(), hooks.size(), fixture + ": the model's hook points are the reference's");
            Path out = tmp.resolve("out.safetensors");
            SafetensorsWriter writer = new SafetensorsWriter();
            ForwardRunner.run(model, null, prompts, hooks, batchSize, writer::put, s -> { });
            writer.write(out);
            SafetensorsFile ours = SafetensorsFile.open(out);
            assertEquals(reference.entries().keySet(), ours.entries().keySet());
            for (String name : reference.entries().keySet()) {
                assertArrayEquals(reference.entry(name).shape(), ours.entry(name).shape(), name);
                double err = TestData.maxAbsDiff(TestData.floats(reference, name), TestData.floats(ours, name));
                assertTrue(err <= TOL, fixture + " " + name + ": max abs error " + err + " (batch size " + batchSize + ")");
            }
        }
    }
}
