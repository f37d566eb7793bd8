package io.loupe.jobs;

import ai.djl.Device;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.ModelPool;
import io.loupe.model.Runtime;
import io.loupe.tokenize.PromptTokenizer;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.util.TaskCompletionListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Models loaded once per executor JVM and shared by its tasks (DJL's Spark extension reloads a
 * predictor per task and exposes no hooks, so Loupe keeps its own cache). The device is the GPU Spark
 * assigned to the task ({@code spark.task.resource.gpu.amount}), else the {@code fallback} spec.
 *
 * <p>A model is pinned from {@link #get} until its task ends; then, beyond {@code spark.loupe.executor.models}
 * (default {@value #DEFAULT_HELD}: an unlearning-score task uses four at once) held, the least recently used unpinned
 * ones are closed ({@link ModelPool}), so a series of checkpoints does not pile up in an executor's memory.
 */
public final class ExecutorModels {
    /** A loaded model with its tokenizer (null when the model has no tokenizer.json). */
    public record Loaded(LanguageModel model, PromptTokenizer tokenizer, Path dir) implements AutoCloseable {
        @Override
        public void close() {
            if (tokenizer != null) {
                tokenizer.close();
            }
            model.close();
        }
    }

    static final int DEFAULT_HELD = 4;
    private static volatile ModelPool<Loaded> pool;
    private static final Map<String, PromptTokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /** The device for the running task: its assigned GPU, else {@code fallback} (cpu, gpu, gpu:N, auto). */
    public static Device taskDevice(String fallback) {
        TaskContext tc = TaskContext.get();
        if (tc != null) {
            ResourceInformation gpu = tc.resourcesJMap().get("gpu");
            if (gpu != null && gpu.addresses().length > 0) {
                return Device.gpu(Integer.parseInt(gpu.addresses()[0]));
            }
        }
        return Runtime.device(fallback);
    }

    /** The tokenizer of a directory (tokenizer.json), loaded once per executor JVM; BOS as {@code config} says. */
    public static PromptTokenizer tokenizer(String dirUri, io.loupe.model.ModelConfig config) {
        return TOKENIZERS.computeIfAbsent(dirUri + "|" + config.bosTokenId(), k -> {
            try {
                return PromptTokenizer.load(ModelFiles.local(dirUri, SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf())), config);
            } catch (IOException e) {
                throw new IllegalStateException("could not load the tokenizer in " + dirUri + ": " + e.getMessage(), e);
            }
        });
    }

    /** The model at {@code modelUri} on {@code device}, loaded at most once per executor while held; in use until the task ends. */
    public static Loaded get(String modelUri, Device device) {
        String key = modelUri + "|" + device;
        ModelPool<Loaded> p = pool();
        Loaded loaded;
        try {
            loaded = p.acquire(key, () -> {
                Path dir = ModelFiles.local(modelUri, SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf()));
                LanguageModel model = ModelLoader.load(dir, device);
                PromptTokenizer tok = dir.resolve("tokenizer.json").toFile().exists() ? PromptTokenizer.load(dir, model.config()) : null;
                return new Loaded(model, tok, dir);
            });
        } catch (IOException e) {
            throw new IllegalStateException("could not load model " + modelUri + ": " + e.getMessage(), e);
        }
        TaskContext tc = TaskContext.get();
        if (tc != null) {
            tc.addTaskCompletionListener((TaskCompletionListener) done -> p.release(key));
        }
        // Outside a task (the driver) nothing marks the end of its use, so it stays pinned: never closed under a caller.
        return loaded;
    }

    private static ModelPool<Loaded> pool() {
        if (pool == null) {
            synchronized (ExecutorModels.class) {
                if (pool == null) {
                    SparkEnv env = SparkEnv.get();
                    pool = new ModelPool<>(env == null ? DEFAULT_HELD : env.conf().getInt("spark.loupe.executor.models", DEFAULT_HELD));
                }
            }
        }
        return pool;
    }
}
