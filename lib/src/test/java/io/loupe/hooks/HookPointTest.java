package io.loupe.hooks;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HookPointTest {
    @Test
    void parsesEveryTransformerLensName() {
        for (HookKind k : HookKind.values()) {
            String name = "blocks.3." + k.suffix();
            HookPoint p = HookPoint.parse(name);
            assertEquals(3, p.layer());
            assertEquals(k, p.kind());
            assertEquals(name, p.name());
        }
        assertEquals(List.of(HookPoint.of(0, HookKind.RESID_POST), HookPoint.of(12, HookKind.MLP_POST)),
                HookPoint.parseList("blocks.0.hook_resid_post, blocks.12.mlp.hook_post,"));
    }

    @Test
    void unknownNamesListTheValidOnes() {
        for (String bad : new String[]{"blocks.0.hook_foo", "hook_resid_post", "blocks.x.hook_resid_pre", "", "blocks.-1.hook_z"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> HookPoint.parse(bad));
            assertTrue(e.getMessage().contains("attn.hook_pattern"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> HookPoint.parse("blocks.5.hook_resid_pre").validate(5));
        assertTrue(e.getMessage().contains("blocks 0..4"), e.getMessage());
    }

    @Test
    void ordersByLayerThenForwardOrder() {
        assertTrue(HookPoint.parse("blocks.1.hook_resid_pre").compareTo(HookPoint.parse("blocks.0.mlp.hook_post")) > 0);
        assertEquals(8 * 2, HookPoint.all(2).size());
    }
}
