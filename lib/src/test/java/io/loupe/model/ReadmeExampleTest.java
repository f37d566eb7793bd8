package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.TestData;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's hook example, verbatim apart from the model path and the assertions. */
class ReadmeExampleTest {
    @Test
    void readmeHookExampleRuns() throws IOException {
        try (LanguageModel model = ModelLoader.load(TestData.stories(), Device.cpu());
             NDManager m = model.manager().newSubManager()) {
            TokenBatch batch = TokenBatch.of(m, List.of(new long[]{1, 403, 407, 261}), 0);
            HookPoint z = HookPoint.parse("blocks.2.attn.hook_z");
            HookPoint resid = HookPoint.parse("blocks.3.hook_resid_mid");

            Hooks read = Hooks.none().capture(resid);                           // capture
            NDArray clean = model.forward(batch, read);
            NDArray cached = read.captured(resid);

            NDArray keep = m.create(new float[]{1, 1, 0, 1, 1, 1, 1, 1}, new Shape(1, 1, 8, 1));
            NDArray ablated = model.forward(batch, Hooks.none()                 // replace: any function of the tensor
                    .replace(z, (x, p) -> x.mul(keep)));                        // zero-ablate head 2

            Map<HookPoint, NDArray> grads = HookGradients.compute(model, batch, Hooks.none(), List.of(resid),
                    logits -> logits.get("0, -1, 298").sub(logits.get("0, -1, 315")));   // d(logit diff)/d(activation)

            assertEquals(new Shape(1, 4, 64), cached.getShape());
            assertTrue(ablated.sub(clean).abs().max().getFloat() > 0);
            assertEquals(cached.getShape(), grads.get(resid).getShape());
        }
    }
}
