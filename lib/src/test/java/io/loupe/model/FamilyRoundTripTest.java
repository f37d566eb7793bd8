package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.TensorDtype;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Each family's mapping between file tensors and the transformer's parameters is a bijection: a random model written
 * by {@code make-model --architecture} reads back to the config it was written from, and the weights the loaded model
 * exports ({@code huggingFaceWeights}, what checkpoints write) are the file's, byte for byte. A wrong transpose,
 * regrouping or split anywhere breaks it.
 */
class FamilyRoundTripTest {
    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2", "neox", "gemma2"})
    void fileToParametersAndBack(String family, @TempDir Path dir) throws IOException {
        RandomModelWriter w = new RandomModelWriter(2, 32, 4, family.equals("gpt2") || family.equals("neox") ? 4 : 2, 48, 320, 3, false, false,
                TensorDtype.F32, 1, family);
        w.write(dir);
        assertEquals(w.config(), ModelConfig.read(dir.resolve("config.json")), family + ": config.json reads back to the config written");
        SafetensorsFile file = SafetensorsFile.open(dir.resolve("model.safetensors"));
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager()) {
            Map<String, NDArray> exported = model.huggingFaceWeights(m);
            assertEquals(file.entries().keySet(), exported.keySet());
            for (var e : exported.entrySet()) {
                ByteBuffer b = e.getValue().toType(DataType.FLOAT32, false).toByteBuffer();
                byte[] ours = new byte[b.remaining()];
                b.get(ours);
                byte[] theirs = new byte[file.bytes(e.getKey()).remaining()];
                file.bytes(e.getKey()).get(theirs);
                assertArrayEquals(theirs, ours, family + " " + e.getKey());
            }
        }
    }
}
