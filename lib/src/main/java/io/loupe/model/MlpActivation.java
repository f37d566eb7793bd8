package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import io.loupe.tensor.FusedKernels;
import io.loupe.tensor.Tensors;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The MLP's activation function, by its Hugging Face {@code hidden_act} name. In a gated MLP it is applied
 * to the gate: {@code mlp.hook_post = act(h W_gate^T) * (h W_up^T)}; in a plain one to the input projection.
 *
 * <ul>
 *   <li>{@code silu}: {@code x * sigmoid(x)} (Llama's SwiGLU)</li>
 *   <li>{@code relu}: {@code max(x, 0)} (ReLU-fied models, the Sparsing Law's ReLU arm, ProSparse)</li>
 *   <li>{@code gelu}, {@code gelu_python}: {@code x * Φ(x)} with the exact normal CDF (erf form; PyTorch's default; NeoX)</li>
 *   <li>{@code gelu_pytorch_tanh}, {@code gelu_new}, {@code gelu_fast}: {@code 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))} (GPT-2, Gemma)</li>
 * </ul>
 */
public enum MlpActivation {
    SILU("silu", "swish"),
    RELU("relu"),
    GELU("gelu", "gelu_python"),
    GELU_TANH("gelu_pytorch_tanh", "gelu_new", "gelu_fast");

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private final String[] names;

    MlpActivation(String... names) {
        this.names = names;
    }

    /** The canonical {@code hidden_act} name written to config.json. */
    public String hfName() {
        return names[0];
    }

    /** The activation for a {@code hidden_act} value; the error lists the supported names. */
    public static MlpActivation parse(String hiddenAct) {
        for (MlpActivation a : values()) {
            if (Arrays.asList(a.names).contains(hiddenAct)) {
                return a;
            }
        }
        throw new IllegalArgumentException("hidden_act '" + hiddenAct + "' is not supported; supported: "
                + Arrays.stream(values()).flatMap(a -> Arrays.stream(a.names)).collect(Collectors.joining(", ")));
    }

    /** Applies the activation elementwise: SiLU and tanh-GELU in one libtorch kernel where {@link FusedKernels} can. */
    public NDArray apply(NDArray x) {
        return switch (this) {
            case SILU -> FusedKernels.available(x) ? FusedKernels.silu(x) : Tensors.mulInto(Activation.sigmoid(x), x);
            case RELU -> Activation.relu(x);
            case GELU -> Activation.gelu(x);   // libtorch's gelu, erf form
            case GELU_TANH -> FusedKernels.available(x) ? FusedKernels.geluTanh(x) : Tensors.times(x.mul(Tensors.times(Tensors.times(x.pow(Tensors.constant(x, 3)), 0.044715).add(x), SQRT_2_OVER_PI).tanh().add(1)), 0.5);
        };
    }
}
