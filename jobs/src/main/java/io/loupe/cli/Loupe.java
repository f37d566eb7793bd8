package io.loupe.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;

/** {@code scripts/loupe <command>}: the entry point of every Loupe command and job. */
@Command(name = "loupe", mixinStandardHelpOptions = true, version = "loupe 0.1.0",
        description = "Interpretability experiments at cluster scale.")
public final class Loupe implements Runnable {
    /** Every command, in the order help lists them. */
    private static final List<Class<?>> COMMANDS = List.of(ForwardCommand.class, CollectCommand.class, FitCommand.class,
            FitE2eCommand.class, FitLawsCommand.class, TrainCommand.class, MakeUnlearningDataCommand.class, UnlearnCommand.class,
            UnlearningCommand.class, FeaturesCommand.class, SparsityCommand.class, CircuitsCommand.class, MakeModelCommand.class,
            MakePromptsCommand.class, DemoCommand.class, ReportCommand.class, BenchCommand.class, CommandLine.HelpCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code = execute(args);
        io.loupe.jobs.SparkSessions.stopIfStarted();   // executors shut down before the driver goes, not after
        System.exit(code);
    }

    /**
     * The command tree for {@code args}: when the first word names a command, only that command is built, since picocli
     * reflects over every option of every command it is given (all of them: ~0.3 s more at start-up, measured);
     * otherwise (help, a version flag, an argument file, a typo) all of them, so that help and suggestions list them.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cli = new CommandLine(new Loupe());
        List<Class<?>> named = args.length == 0 ? List.of()
                : COMMANDS.stream().filter(c -> c.getAnnotation(Command.class).name().equals(args[0])).toList();
        boolean all = named.isEmpty() || named.contains(CommandLine.HelpCommand.class);   // `help X` needs X
        for (Class<?> c : all ? COMMANDS : named) {
            cli.addSubcommand(c);
        }
        return cli;
    }

    /** Runs a command line and returns its exit code; bad input prints one clear line, not a stack trace. */
    public static int execute(String... args) {
        CommandLine cli = commandLine(args);
        cli.setOverwrittenOptionsAllowed(true);   // options after @conf/x.conf override the file's (ArgsFiles keeps the last of each)
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof java.io.UncheckedIOException u) {   // e.g. a full disk while forward streams its output
                e = u.getCause();
            }
            // Bad input and a missing runtime are the user's to fix: one line, no stack trace.
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof java.io.IOException) {
                // An I/O exception's message is often just a path: say what happened to it.
                String what = e instanceof java.io.IOException ? e.getClass().getSimpleName() + ": " : "";
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": error: " + what + e.getMessage());
                return 2;
            }
            if (e instanceof org.apache.spark.SparkException) {
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                if (root instanceof IllegalArgumentException) {   // bad input found inside a task: the user's to fix
                    cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": error: " + root.getMessage());
                    return 2;
                }
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": Spark job failed: " + root + " (the log above has the details)");
                return 1;
            }
            throw e;
        });
        try {
            return cli.execute(ArgsFiles.resolve(cli, args));
        } catch (IllegalArgumentException e) {
            cli.getErr().println("loupe: error: " + e.getMessage());
            return 2;
        }
    }
}
