package io.loupe.unlearn;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fixture generator: splits disjoint by character (no row, id or text shared), the same for a seed, sizes as asked. */
class FactWorldTest {
    @Test
    void splitsAreDisjointByCharacterAndDeterministic() {
        FactWorld.Splits s = FactWorld.generate(20, 0.1, 0.1, 7);
        assertEquals(2, s.forgetCharacters().size());
        assertEquals(2, s.holdoutCharacters().size());
        assertEquals(16, s.retainCharacters().size());
        List<List<Map<String, Object>>> splits = List.of(s.forget(), s.retain(), s.holdout());
        List<Set<Object>> characters = splits.stream().map(rows -> rows.stream().map(r -> r.get("character")).collect(Collectors.toSet())).toList();
        for (int i = 0; i < 3; i++) {
            for (int j = i + 1; j < 3; j++) {
                Set<Object> both = new HashSet<>(characters.get(i));
                both.retainAll(characters.get(j));
                assertTrue(both.isEmpty(), "splits " + i + " and " + j + " share characters " + both);
                Set<Object> ids = splits.get(i).stream().map(r -> r.get("id")).collect(Collectors.toSet());
                assertTrue(splits.get(j).stream().noneMatch(r -> ids.contains(r.get("id"))), "shared ids");
                Set<Object> texts = splits.get(i).stream().map(r -> r.get("text")).filter(t -> t != null).collect(Collectors.toSet());
                assertTrue(splits.get(j).stream().noneMatch(r -> r.get("text") != null && texts.contains(r.get("text"))), "shared texts");
            }
        }
        // Every character's rows name only that character; each split's rows come from its own characters.
        assertEquals(s.forgetCharacters().stream().map(FactWorld.Character::name).collect(Collectors.toSet()), characters.get(0));
        assertEquals(s, FactWorld.generate(20, 0.1, 0.1, 7), "same seed, same fixture");
        assertNotEquals(s.forget(), FactWorld.generate(20, 0.1, 0.1, 8).forget(), "another seed, another fixture");
    }

    @Test
    void impossibleSplitsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> FactWorld.generate(3, 0.5, 0.5, 0));
        assertTrue(e.getMessage().contains("at least one retain character"), e.getMessage());
    }
}
