package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.loupe.optim.TrainingState;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run killed after a saved state and resumed ends with exactly the weights of an uninterrupted run. */
class ResumeTest {
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void killedAndResumedEqualsUninterrupted(Architecture a, @TempDir Path dir) throws Exception {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray rows = PlantedDictionaryTest.planted(m, 2)[0].get(":3000");
            SaeConfig cfg = SaeConfig.defaults(a, PlantedDictionaryTest.D_IN, 64, 3).withTraining(3e-3, 60, 128, 10, 20)
                    .withSparsity(0.3, 0.08).withDeadAfter(2000).withJump(0.1, 0.1).withSeed(5);
            SaeTrainer.Result clean = SaeTrainer.train(cfg, new InMemorySource(rows, 9), rows.get(":512"), m, 100, l -> { });

            // Killed right after the state of step 40 is saved (as a task dies after its copy to storage).
            RuntimeException killed = assertThrows(RuntimeException.class, () -> SaeTrainer.train(cfg, new InMemorySource(rows, 9),
                    rows.get(":512"), m, 100, l -> { }, new SaeTrainer.Resume(dir, 20, step -> {
                        if (step == 40) {
                            throw new RuntimeException("killed");
                        }
                    })));
            assertEquals("killed", killed.getMessage());
            assertTrue(Files.exists(dir.resolve(TrainingState.FILE)));
            SaeTrainer.Result resumed = SaeTrainer.train(cfg, new InMemorySource(rows, 9), rows.get(":512"), m, 100, l -> { },
                    new SaeTrainer.Resume(dir, 20, step -> { }));
            assertEquals(20L * 128, resumed.tokens(), "only the last 20 steps ran again");
            for (int i = 0; i < clean.sae().parameters().size(); i++) {
                assertArrayEquals(clean.sae().parameters().get(i).toFloatArray(), resumed.sae().parameters().get(i).toFloatArray(), "parameter " + i);
            }
            assertEquals(clean.sae().batchThreshold(), resumed.sae().batchThreshold());

            // A state saved under another config is not resumed: the run starts over.
            SaeTrainer.Result other = SaeTrainer.train(cfg.withSeed(6), new InMemorySource(rows, 9), rows.get(":512"), m, 100, l -> { },
                    new SaeTrainer.Resume(dir, 1000, step -> { }));
            assertEquals(60L * 128, other.tokens());
        }
    }
}
