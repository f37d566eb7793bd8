package io.loupe.tensor;

import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ConstantPagesTest {
    private static final String LIB = "/opt/torch/libtorch_cpu.so";
    private static final List<String> MAPS = List.of(
            "7f0000000000-7f0000001000 r--p 00000000 fe:00 11 /opt/torch/libtorch_other.so",
            "7f475aa00000-7f476f3bc000 r-xp 00000000 fe:00 12                   " + LIB,
            "7f476f3bc000-7f476f617000 r--p 149bb000 fe:00 12                   " + LIB,
            "7f476f617000-7f476f6a9000 rw-p 14c16000 fe:00 12                   " + LIB,
            "7f4800000000-7f4800001000 ---p 00000000 00:00 0 ");

    @Test
    void theLoadBaseIsTheMappingAtFileOffsetZero() {
        assertEquals(0x7f475aa00000L, ConstantPages.loadBase(MAPS, LIB));
        assertEquals(-1, ConstantPages.loadBase(MAPS, "/opt/torch/libc10.so"));
        assertEquals(-1, ConstantPages.loadBase(List.of(), LIB));
    }

    @Test
    void onlyARangeInsideOneReadableMappingCounts() {
        long base = 0x7f475aa00000L;
        assertTrue(ConstantPages.readable(MAPS, LIB, base + 0x12029500L, base + 0x12029500L + 0x113c386L));   // .rodata in r-x
        assertTrue(ConstantPages.readable(MAPS, LIB, 0x7f476f3bc000L, 0x7f476f617000L));                       // exactly one mapping
        assertFalse(ConstantPages.readable(MAPS, LIB, 0x7f476f3bb000L, 0x7f476f3bd000L));                      // across two mappings
        assertFalse(ConstantPages.readable(MAPS, LIB, 0x7f0000000000L, 0x7f0000000800L));                      // another library's
        assertFalse(ConstantPages.readable(MAPS, "", 0x7f4800000000L, 0x7f4800000800L));                       // not readable
    }

    @Test
    void findsASectionByNameInAHandBuiltElfFile(@TempDir Path dir) throws IOException {
        // ELF64 little-endian: a 64-byte header, then names, then three 64-byte section headers (null, .rodata, .shstrtab).
        byte[] names = "\0.rodata\0.shstrtab\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int namesAt = 64, headersAt = 128;
        ByteBuffer b = ByteBuffer.allocate(headersAt + 3 * 64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1);
        b.putLong(0x28, headersAt).putShort(0x3A, (short) 64).putShort(0x3C, (short) 3).putShort(0x3E, (short) 2);
        b.put(namesAt, names);
        section(b, headersAt + 64, 1, 0x12029500L, 0x113c386L);
        section(b, headersAt + 128, 9, namesAt, names.length);
        b.putLong(headersAt + 128 + 24, namesAt);   // .shstrtab's file offset is its address here
        Path elf = Files.write(dir.resolve("lib.so"), b.array());
        assertEquals(new ConstantPages.Region(0x12029500L, 0x113c386L), ConstantPages.section(elf, ".rodata"));
        assertNull(ConstantPages.section(elf, ".data"));
        assertNull(ConstantPages.section(elf, ".rodat"), "a name must match whole, not as a prefix");

        Path text = Files.writeString(dir.resolve("not-elf.so"), "#!/bin/sh\n");
        IOException e = assertThrows(IOException.class, () -> ConstantPages.section(text, ".rodata"));
        assertTrue(e.getMessage().contains("not a little-endian 64-bit ELF"), e.getMessage());
        b.putLong(0x28, 1L << 40);   // section headers past the end of the file
        Path cut = Files.write(dir.resolve("cut.so"), b.array());
        assertTrue(assertThrows(IOException.class, () -> ConstantPages.section(cut, ".rodata")).getMessage().contains("outside the file"));
    }

    private static void section(ByteBuffer b, int at, int name, long address, long size) {
        b.putInt(at, name).putLong(at + 16, address).putLong(at + 24, address).putLong(at + 32, size);
    }

    @Test
    void touchReadsOneBytePerPageAndTheLast() {
        ByteBuffer b = ByteBuffer.allocate(3 * 4096 + 10);
        b.put(0, (byte) 1).put(4096, (byte) 2).put(8192, (byte) 3).put(12288, (byte) 4).put(3 * 4096 + 9, (byte) 5).put(5, (byte) 100);
        assertEquals(1 + 2 + 3 + 4 + 5, ConstantPages.touch(b));
    }

    @Test
    void theSwitchIsKeepOrOff() {
        assertNull(ConstantPages.reasonToSkip(null, true));
        assertNull(ConstantPages.reasonToSkip("keep", true));
        assertEquals("-Dloupe.pages=off", ConstantPages.reasonToSkip("off", true));
        assertEquals("not Linux on x86-64", ConstantPages.reasonToSkip(null, false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConstantPages.reasonToSkip("on", true));
        assertTrue(e.getMessage().contains("'keep' (the default) or 'off'"), e.getMessage());
    }

    @Test
    void keepsLibtorchsRodataReadOnThisHost() throws InterruptedException {
        assumeTrue(LoadedLibtorch.LINUX_X86_64, "libtorch's .rodata is kept mapped on Linux x86-64 only");
        Runtime.engine();
        String outcome = ConstantPages.keepMapped();
        assertTrue(outcome.matches("libtorch constants: \\d+ pages of \\.rodata read every 50 ms.*"), outcome);
        long before = ConstantPages.sweeps();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (ConstantPages.sweeps() < before + 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(ConstantPages.sweeps() >= before + 2, "the keeper thread sweeps again and again");
    }
}
