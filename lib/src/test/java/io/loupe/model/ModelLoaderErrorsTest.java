package io.loupe.model;

import ai.djl.Device;
import io.loupe.tensor.InvalidTensorFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every bad model directory fails before any work, with a message that names the problem. */
class ModelLoaderErrorsTest {

    private static String failure(Path dir) {
        Exception e = assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(dir, Device.cpu()).close());
        return e.getMessage();
    }

    @Test
    void missingDirectoryAndMissingWeights(@TempDir Path dir) throws IOException {
        assertTrue(failure(dir.resolve("nope")).contains("does not exist"));
        RandomModels.write(dir, 1);
        Files.delete(dir.resolve("model.safetensors"));
        assertTrue(failure(dir).contains("no model.safetensors"), failure(dir));
    }

    @Test
    void truncatedSafetensors(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 1);
        Path f = dir.resolve("model.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        String msg = failure(dir);
        assertTrue(msg.contains("truncated") && msg.contains("model.safetensors"), msg);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(5);
        }
        assertTrue(failure(dir).contains("truncated"), failure(dir));
    }

    @Test
    void unsupportedArchitectureIsNamedWithTheSupportedOnes(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 1);
        replaceInConfig(dir, "LlamaForCausalLM", "MambaForCausalLM");
        String msg = failure(dir);
        assertTrue(msg.contains("MambaForCausalLM") && msg.contains("LlamaForCausalLM") && msg.contains("GPT2LMHeadModel")
                && msg.contains("GPTNeoXForCausalLM") && msg.contains("Gemma2ForCausalLM"), msg);
    }

    @Test
    void tensorWhoseShapeDoesNotFitTheConfigIsNamed(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 1);
        replaceInConfig(dir, "\"intermediate_size\": 128", "\"intermediate_size\": 100");
        String msg = failure(dir);
        assertTrue(msg.contains("model.layers.0.mlp.gate_proj.weight") && msg.contains("(128, 64)"), msg);
    }

    @Test
    void missingTensorIsNamed(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 1);
        replaceInConfig(dir, "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
        assertTrue(failure(dir).contains("model.layers.2."), failure(dir));
    }

    @Test
    void pickledCheckpointIsRefusedWithTheReason(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 1);
        Files.delete(dir.resolve("model.safetensors"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[]{(byte) 0x80, 2});
        String msg = failure(dir);
        assertTrue(msg.contains("pytorch_model.bin") && msg.contains("executes code"), msg);
        assertTrue(InvalidTensorFileException.class.isAssignableFrom(
                assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(dir, Device.cpu())).getClass()));
    }

    @Test
    void unsupportedConfigFeaturesAreRefusedNotIgnored(@TempDir Path dir) throws IOException {
        RandomModels.write(dir, 1);
        replaceInConfig(dir, "\"hidden_act\": \"silu\"", "\"hidden_act\": \"silu\", \"rope_scaling\": {\"type\": \"llama3\"}");
        assertTrue(failure(dir).contains("rope_scaling"), failure(dir));
    }

    private static void replaceInConfig(Path dir, String from, String to) throws IOException {
        Path c = dir.resolve("config.json");
        String s = Files.readString(c);
        assertTrue(s.contains(from), "config.json lacks " + from);
        Files.writeString(c, s.replace(from, to));
    }
}
