package io.udit.cli;

import io.udit.testing.Cli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every help page teaches: each visible option and parameter is described and, when it has a default, says what it
 * is; each command shows examples; no word of a description is split across lines. The command tree is walked, so a
 * command added later is held to the same rules.
 */
class HelpTest {
    /** Every command of the tree, by its qualified name ("udit", "udit train", ...). */
    static Map<String, CommandLine> commands() {
        Map<String, CommandLine> all = new LinkedHashMap<>();
        collect(Main.commandLine(), all);
        return all;
    }

    private static void collect(CommandLine cl, Map<String, CommandLine> all) {
        all.put(cl.getCommandSpec().qualifiedName(), cl);
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!all.containsKey(sub.getCommandSpec().qualifiedName())) collect(sub, all);
        }
    }

    /** The options a reader sees, without the standard --help and --version. */
    static List<ArgSpec> visibleArgs(CommandSpec spec) {
        List<ArgSpec> out = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (!o.hidden() && !o.usageHelp() && !o.versionHelp()) out.add(o);
        }
        for (var p : spec.positionalParameters()) if (!p.hidden()) out.add(p);
        return out;
    }

    static String name(ArgSpec a) {
        return a instanceof OptionSpec o ? o.longestName() : a.paramLabel();
    }

    static String description(ArgSpec a) {
        return String.join(" ", a.description());
    }

    @Test
    void everyOptionIsDescribed() {
        List<String> missing = new ArrayList<>();
        for (var e : commands().entrySet()) {
            for (ArgSpec a : visibleArgs(e.getValue().getCommandSpec())) {
                if (description(a).isBlank()) missing.add(e.getKey() + " " + name(a));
            }
        }
        assertTrue(missing.isEmpty(), "options without a description: " + missing);
    }

    /**
     * An option with a value says what happens without it: its description shows ${DEFAULT-VALUE}, names the
     * default, or starts with "Required". Options picocli enforces and flags (which default to off) need not.
     */
    @Test
    void everyOptionalValueNamesItsDefault() {
        List<String> silent = new ArrayList<>();
        for (var e : commands().entrySet()) {
            for (ArgSpec a : visibleArgs(e.getValue().getCommandSpec())) {
                if (a.required() || !a.isOption() || a.arity().max() == 0) continue;
                String d = description(a);
                String lower = d.toLowerCase(java.util.Locale.ROOT);
                if (!d.contains("${DEFAULT-VALUE}") && !lower.contains("default") && !lower.startsWith("required")) {
                    silent.add(e.getKey() + " " + name(a));
                }
            }
        }
        assertTrue(silent.isEmpty(), "options that do not name their default: " + silent);
    }

    @Test
    void everyCommandShowsExamples() {
        List<String> without = new ArrayList<>();
        for (var e : commands().entrySet()) {
            if (!e.getValue().getUsageMessage().contains("Examples:")) without.add(e.getKey());
        }
        assertTrue(without.isEmpty(), "commands without examples: " + without);
    }

    /** Each word of each description, footer and command list entry appears whole on one line of the page (no "log.\njsonl"). */
    @Test
    void noWordIsSplitAcrossLines() {
        List<String> split = new ArrayList<>();
        for (var e : commands().entrySet()) {
            CommandLine cl = e.getValue();
            String page = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
            List<String> lines = page.lines().toList();
            Map<String, String> texts = new LinkedHashMap<>();
            for (ArgSpec a : visibleArgs(cl.getCommandSpec())) texts.put(name(a), description(a));
            // descriptions and footers are format strings (%n): compare what picocli prints
            texts.put("(description)", String.format(String.join(" ", cl.getCommandSpec().usageMessage().description())));
            texts.put("(footer)", String.format(String.join(" ", cl.getCommandSpec().usageMessage().footer())));
            for (CommandLine sub : cl.getSubcommands().values()) {
                var usage = sub.getCommandSpec().usageMessage();
                texts.put("(command list: " + sub.getCommandName() + ")", usage.header().length > 0 ? usage.header()[0] : usage.description()[0]);
            }
            for (var t : texts.entrySet()) {
                for (String word : t.getValue().split("\\s+")) {
                    if (word.isEmpty() || word.contains("${")) continue;
                    if (lines.stream().noneMatch(l -> l.contains(word))) split.add(e.getKey() + " " + t.getKey() + ": '" + word + "'");
                }
            }
            for (String l : cl.getCommandSpec().usageMessage().footer()) {
                if (l.length() > Main.USAGE_WIDTH) split.add(e.getKey() + ": footer line wider than the page, so it wraps: " + l);
            }
            for (String l : lines) {
                if (l.length() > Main.USAGE_WIDTH) split.add(e.getKey() + ": line longer than " + Main.USAGE_WIDTH + ": " + l);
            }
        }
        assertTrue(split.isEmpty(), "words split across lines: " + split);
    }

    @Test
    void helpCommandPrintsThePages() {
        Cli.Result top = Cli.run("help");
        assertEquals(0, top.exitCode(), top.all());
        assertTrue(top.out().contains("Usage: udit ") && top.out().contains("train"), top.out());
        Cli.Result bare = Cli.run();
        assertEquals(top.out(), bare.out(), "udit alone prints the same page as udit help");
        Cli.Result train = Cli.run("help", "train");
        assertEquals(0, train.exitCode(), train.all());
        assertTrue(train.out().contains("Usage: udit train") && train.out().contains("--checkpoint-every"), train.out());
        assertTrue(!train.all().contains("--data SPEC"), "help train must not ask for --data: " + train.all());
        Cli.Result sample = Cli.run("sample", "--help");
        assertEquals(0, sample.exitCode(), sample.all());
        assertTrue(sample.out().contains("Examples:"), sample.out());
    }

    @Test
    void usageErrorsAreOneLineWithAPointerToHelp() {
        Cli.Result r = Cli.run("sample", "--no-such-option");
        assertEquals(2, r.exitCode(), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("(see udit sample --help)"), r.err());
    }
}
