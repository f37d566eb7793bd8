package io.loupe.forward;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptTest {
    @Test
    void tokenIdsAreCheckedAgainstTheVocabulary() {
        assertArrayEquals(new long[]{1, 5, 9}, new Prompt("a", null, new long[]{1, 5, 9}).tokens(null, 10));
        var e = assertThrows(IllegalArgumentException.class, () -> new Prompt("b", null, new long[]{1, 10}).tokens(null, 10));
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("token id 10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Prompt("c", null, new long[]{-1}).tokens(null, 10));
        assertThrows(IllegalArgumentException.class, () -> new Prompt("d", null, new long[0]).tokens(null, 10));
        var noTok = assertThrows(IllegalArgumentException.class, () -> new Prompt("e", "hello", null).tokens(null, 10));
        assertTrue(noTok.getMessage().contains("no tokenizer.json"), noTok.getMessage());
    }
}
