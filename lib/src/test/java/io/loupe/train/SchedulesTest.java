package io.loupe.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Learning-rate, activation-penalty and checkpoint schedules on hand-computed values. */
class SchedulesTest {
    @Test
    void warmupThenCosine() {
        LrSchedule s = new LrSchedule(1.0, 4, 14, 0.1);
        assertEquals(0.25, s.at(0), 1e-12);      // (0 + 1) / 4
        assertEquals(1.0, s.at(3), 1e-12);
        assertEquals(1.0, s.at(4), 1e-12);       // decay progress 0
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 4 / 9)), s.at(8), 1e-12);
        assertEquals(0.1, s.at(13), 1e-12);      // the last step ends at the minimum
        assertEquals(0.55, new LrSchedule(1.0, 0, 3, 0.1).at(1), 1e-12);   // half way: min + (peak - min) / 2
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(0, 0, 3, 0.1));
    }

    @Test
    void activationPenaltyRisesInStages() {
        ActivationL1 l1 = ActivationL1.parse("1:3", 8);   // stages of 4 steps, ramps over the first 2 of each
        assertEquals(0, l1.at(0), 1e-12);
        assertEquals(Math.sin(Math.PI / 4), l1.at(1), 1e-12);   // u = 1/4: sin(π/2 · 1/2)
        assertEquals(1, l1.at(2), 1e-12);
        assertEquals(1, l1.at(3), 1e-12);
        assertEquals(1, l1.at(4), 1e-12);                       // stage 2 starts from stage 1's factor
        assertEquals(1 + 2 * Math.sin(Math.PI / 4), l1.at(5), 1e-12);
        assertEquals(3, l1.at(7), 1e-12);
        assertEquals(0, ActivationL1.parse("0", 8).at(5));
        assertThrows(IllegalArgumentException.class, () -> ActivationL1.parse("1:-2", 8));
    }

    @Test
    void logSpacedCheckpointsLandOnSteps() {
        long[] perStep = new long[100];
        java.util.Arrays.fill(perStep, 10);                      // 10 tokens a step: 10 .. 1000 tokens
        // targets 10, 100, 1000 tokens (e^(ln 10 + k ln 10)) -> steps 1, 10, 100
        assertArrayEquals(new int[]{1, 10, 100}, CheckpointSchedule.logSpaced(perStep, 3));
        // 5 targets: 10, 31.6, 100, 316, 1000 -> first steps reaching them: 1, 4 (40 >= 32), 10, 32 (320 >= 316), 100
        assertArrayEquals(new int[]{1, 4, 10, 32, 100}, CheckpointSchedule.logSpaced(perStep, 5));
        assertArrayEquals(new int[]{5, 100}, CheckpointSchedule.atTokens(perStep, new long[]{45}));
        assertThrows(IllegalArgumentException.class, () -> CheckpointSchedule.atTokens(perStep, new long[]{1001}));
        long[] two = {10, 10};
        assertArrayEquals(new int[]{1, 2}, CheckpointSchedule.logSpaced(two, 8), "targets that share a step merge");
    }
}
