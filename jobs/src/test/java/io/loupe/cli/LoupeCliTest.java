package io.loupe.cli;

import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user runs it: outputs, help and error messages. */
class LoupeCliTest {

    private static Path shared() {
        return io.loupe.TestData.shared();
    }

    @Test
    void forwardWritesTheReferenceLayoutAndValues(@TempDir Path tmp) throws IOException {
        Path shared = shared();
        Path out = tmp.resolve("f.safetensors");
        Path prompts = tmp.resolve("p.jsonl");
        // Text only: exercises the tokenizer on the way, unlike the token ids the reference file also carries.
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(shared.resolve("testvectors/stories260k/prompts.jsonl"))) {
            var o = com.google.gson.JsonParser.parseString(line).getAsJsonObject();
            o.remove("token_ids");
            sb.append(o).append('\n');
        }
        Files.writeString(prompts, sb);
        CliRun r = CliRun.of("forward", "--model", shared.resolve("models/stories260k").toString(), "--prompts", prompts.toString(),
                "--hooks", "blocks.3.mlp.hook_post,blocks.1.attn.hook_pattern,blocks.4.hook_resid_post", "--out", out.toString(),
                "--batch-size", "3", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("forward: 4 prompts"), r.err());
        SafetensorsFile ours = SafetensorsFile.open(out);
        SafetensorsFile ref = SafetensorsFile.open(shared.resolve("testvectors/stories260k/reference.safetensors"));
        assertEquals(4 * 4, ours.entries().size());
        for (String name : ours.entries().keySet()) {
            float[] a = floats(ours, name), b = floats(ref, name);
            assertEquals(b.length, a.length, name);
            for (int i = 0; i < a.length; i++) {
                assertTrue(Math.abs(a[i] - b[i]) <= 1e-4, name + "[" + i + "]: " + a[i] + " vs " + b[i]);
            }
        }
    }

    @Test
    void badInputGetsOneClearLineAndExitCode2(@TempDir Path tmp) throws IOException {
        Path model = tmp.resolve("m");
        assertEquals(0, CliRun.of("make-model", "--layers", "1", "--d-model", "32", "--heads", "2", "--d-mlp", "64", "--vocab", "300",
                "--out", model.toString()).code());
        Path prompts = tmp.resolve("p.jsonl");
        Files.writeString(prompts, "{\"id\": \"a\", \"text\": \"hello\"}\n");
        CliRun unknownHook = CliRun.of("forward", "--model", model.toString(), "--prompts", prompts.toString(), "--hooks", "blocks.0.hook_nope",
                "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(2, unknownHook.code());
        assertTrue(unknownHook.err().contains("unknown hook name 'blocks.0.hook_nope'") && unknownHook.err().contains("mlp.hook_post"),
                unknownHook.err());
        // A valid hook name at a layer the 1-layer model does not have: refused for the layer, not the name.
        CliRun badLayer = CliRun.of("forward", "--model", model.toString(), "--prompts", prompts.toString(), "--hooks", "blocks.1.attn.hook_z",
                "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(2, badLayer.code());
        assertTrue(badLayer.err().contains("'blocks.1.attn.hook_z'") && badLayer.err().contains("the model has blocks 0..0"), badLayer.err());
        Files.writeString(prompts, "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"a\", \"text\": \"y\"}\n");
        CliRun dup = CliRun.of("forward", "--model", model.toString(), "--prompts", prompts.toString(), "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(2, dup.code());
        assertTrue(dup.err().contains(":2: duplicate id 'a'"), dup.err());
        Files.writeString(prompts, "{\"id\": \"a\", \"text\": \"x\"}\n");
        CliRun noModel = CliRun.of("forward", "--model", tmp.resolve("none").toString(), "--prompts", prompts.toString(), "--out", "x");
        assertTrue(noModel.code() == 2 && noModel.err().contains("does not exist"), noModel.err());
        assertTrue(!Files.exists(tmp.resolve("o.safetensors")), "no output after a failure");

        Path task = tmp.resolve("task.jsonl");
        Files.writeString(task, "{\"id\": \"t1\", \"clean\": [1, 5, 6], \"corrupt\": [1, 7], \"answer\": 9, \"wrong\": 8}\n");
        CliRun unequal = CliRun.of("circuits", "--model", model.toString(), "--task", task.toString(), "--master", "local[1,4]", "--out",
                tmp.resolve("c").toString());
        assertEquals(2, unequal.code());
        assertTrue(unequal.err().contains("task.jsonl:1") && unequal.err().contains("'t1'") && unequal.err().contains("differ in length"),
                unequal.err());
        CliRun badMethod = CliRun.of("circuits", "--model", model.toString(), "--task", "induction", "--method", "gradient", "--out", "x");
        assertTrue(badMethod.code() == 2 && badMethod.err().contains("use patch or attrib"), badMethod.err());
        assertTrue(!Files.exists(tmp.resolve("c")), "no output after a failure");

        // Two runs on different seeds, the second reporting its circuit's overlap with the first's.
        for (String seed : new String[]{"0", "1"}) {
            List<String> args = new java.util.ArrayList<>(List.of("circuits", "--model", model.toString(), "--task", "induction", "--examples", "4",
                    "--induction-half", "3", "--seed", seed, "--top-n", "2", "--master", "local[1,4]", "--out", tmp.resolve("circ" + seed).toString()));
            if (seed.equals("1")) {
                args.addAll(List.of("--compare-with", tmp.resolve("circ0").toString()));
            }
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
        }
        var summary = com.google.gson.JsonParser.parseString(Files.readString(tmp.resolve("circ1/summary.json"))).getAsJsonObject();
        double iou = summary.getAsJsonObject("circuit_overlap_with").get("iou").getAsDouble();
        var first = com.google.gson.JsonParser.parseString(Files.readString(tmp.resolve("circ0/summary.json"))).getAsJsonObject();
        java.util.Set<String> a = new java.util.HashSet<>(), b = new java.util.HashSet<>();
        first.getAsJsonObject("circuit").getAsJsonArray("nodes").forEach(n -> a.add(n.toString()));
        summary.getAsJsonObject("circuit").getAsJsonArray("nodes").forEach(n -> b.add(n.toString()));
        java.util.Set<String> inter = new java.util.HashSet<>(a), union = new java.util.HashSet<>(a);
        inter.retainAll(b);
        union.addAll(b);
        assertEquals((double) inter.size() / union.size(), iou, 1e-12, "the reported overlap is the two circuits' IoU: " + a + " vs " + b);
        assertEquals(2, summary.getAsJsonObject("circuit").getAsJsonArray("nodes").size());
    }

    /** A named command is built alone (start-up time); help, typos and argument files get the whole tree. */
    @Test
    void onlyTheNamedCommandIsBuilt() {
        assertEquals(java.util.Set.of("forward"), Loupe.commandLine("forward", "--model", "m").getSubcommands().keySet());
        assertEquals(java.util.Set.of("bench"), Loupe.commandLine("bench", "forward").getSubcommands().keySet());
        int all = Loupe.commandLine().getSubcommands().size();
        assertTrue(all >= 18, "every command and help: " + all);
        for (String[] args : new String[][]{{"--help"}, {"help", "forward"}, {"forwrd"}, {"@args.conf"}}) {
            assertEquals(all, Loupe.commandLine(args).getSubcommands().size(), String.join(" ", args));
        }
    }

    /** Options after an @file replace the file's, list options too (picocli alone would append to a list). */
    @Test
    void lastOccurrenceOfAnOptionWins(@TempDir Path tmp) throws IOException {
        picocli.CommandLine cli = Loupe.commandLine();
        Path fit = tmp.resolve("fit.conf");
        Files.writeString(fit, "# a comment\n--k 4,8\n--width 128\n");
        assertEquals(List.of("fit", "--width", "128", "--k", "16"), List.of(ArgsFiles.resolve(cli, "fit", "@" + fit, "--k", "16")));
        Path study = tmp.resolve("study.conf");
        Files.writeString(study, "--extra \"--alpha 1 --beta 2\"\n--seed 1\n");
        assertEquals(List.of("unlearn", "study", "--extra", "--alpha 1 --beta 2", "--seed", "3"),
                List.of(ArgsFiles.resolve(cli, "unlearn", "study", "@" + study, "--seed", "3")));
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] cmd : new String[][]{{"--help"}, {"forward", "--help"}, {"collect", "--help"}, {"fit", "--help"}, {"features", "--help"}, {"sparsity", "--help"}, {"circuits", "--help"}, {"make-model", "--help"}, {"make-prompts", "--help"}, {"demo", "--help"},
                {"bench", "--help"}, {"bench", "forward", "--help"}, {"bench", "collect", "--help"}, {"bench", "fit", "--help"},
                {"bench", "circuits", "--help"}, {"bench", "train", "--help"}, {"bench", "unlearning", "--help"}, {"train", "--help"},
                {"make-unlearning-data", "--help"}, {"unlearn", "--help"}, {"unlearn", "prepare", "--help"}, {"unlearn", "study", "--help"},
                {"unlearning", "--help"}, {"unlearning", "score", "--help"}, {"fit-laws", "--help"}, {"bench", "gpu", "--help"}}) {
            CliRun r = CliRun.of(cmd);
            assertEquals(0, r.code(), String.join(" ", cmd));
            assertTrue(r.out().contains("Usage: loupe"), r.out());
        }
    }

    private static float[] floats(SafetensorsFile f, String name) throws IOException {
        FloatBuffer fb = f.bytes(name).asFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }
}
