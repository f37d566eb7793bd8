package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FeatureStatsTest {
    @Test
    void countsAndTopContextsMergeAcrossPartitions() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // latent 0 fires on tokens a0 (3), a1 (1), b0 (5); latent 1 only on b1 (2); latent 2 never.
            FeatureStats a = new FeatureStats(3, 2), b = new FeatureStats(3, 2);
            a.add(m.create(new float[]{3, 0, 0, 1, 0, 0}, new Shape(2, 3)), new String[]{"a", "a"}, new int[]{0, 1});
            b.add(m.create(new float[]{5, 0, 0, 0, 2, 0}, new Shape(2, 3)), new String[]{"b", "b"}, new int[]{0, 1});
            FeatureStats all = a.merge(b);
            assertEquals(4, all.tokens());
            assertEquals(0.75, all.frequency(0), 1e-12);
            assertEquals(0.25, all.frequency(1), 1e-12);
            assertEquals(0.0, all.frequency(2), 1e-12);
            assertEquals(List.of(new FeatureStats.Hit(5, "b", 0), new FeatureStats.Hit(3, "a", 0)), all.top(0));   // k = 2 keeps the best two
            assertEquals(List.of(new FeatureStats.Hit(2, "b", 1)), all.top(1));
            assertEquals(List.of(), all.top(2));
        }
    }
}
