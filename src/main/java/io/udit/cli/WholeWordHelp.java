package io.udit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.List;
import java.util.Map;

/**
 * Help pages whose option and parameter descriptions wrap at spaces only. picocli breaks lines wherever a line-break
 * iterator allows, which splits file names and specs such as "log.jsonl" or "fashion-mnist[:DIR]" in two; here each
 * description, footer and command list entry is wrapped at whitespace, so every word stays whole on one line.
 */
final class WholeWordHelp extends Help {
    WholeWordHelp(CommandSpec spec, ColorScheme colors) {
        super(spec, colors);
    }

    /** Installs these help pages on a command and all its subcommands. */
    static void install(CommandLine cl) {
        cl.setHelpFactory(WholeWordHelp::new);
    }

    @Override
    public Layout createDefaultLayout(List<OptionSpec> options, List<PositionalParamSpec> positionals, ColorScheme colors) {
        Layout base = super.createDefaultLayout(options, positionals, colors);
        WholeWordTable table = new WholeWordTable(colors, base.textTable().columns());
        table.indentWrappedLines = base.textTable().indentWrappedLines;
        return new Layout(colors, table, base.optionRenderer(), base.parameterRenderer());
    }

    /** The command list of a parent command (each command's header, else its first description line), wrapped at spaces. */
    @Override
    public String commandList(Map<String, Help> subcommands) {
        int nameWidth = 0;
        for (String name : subcommands.keySet()) nameWidth = Math.max(nameWidth, name.length());
        int width = commandSpec().usageMessage().width();
        WholeWordTable table = new WholeWordTable(colorScheme(), new Column[] {new Column(nameWidth + 4, 2, Column.Overflow.SPAN),
                new Column(width - nameWidth - 4, 0, Column.Overflow.WRAP)});
        table.indentWrappedLines = 2;
        for (var e : subcommands.entrySet()) {
            var usage = e.getValue().commandSpec().usageMessage();
            if (usage.hidden()) continue;
            String first = usage.header().length > 0 ? usage.header()[0] : usage.description().length > 0 ? usage.description()[0] : "";
            table.addRowValues(colorScheme().commandText(e.getKey()), colorScheme().text(first));
        }
        return table.toString();
    }

    @Override
    public String description(Object... params) {
        return wrapped(commandSpec().usageMessage().description(), params);
    }

    @Override
    public String footer(Object... params) {
        return wrapped(commandSpec().usageMessage().footer(), params);
    }

    /** Lines of a description or footer, formatted as picocli formats them, each wrapped at spaces to the page width. */
    private String wrapped(String[] lines, Object... params) {
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            String formatted = String.format(line, params).stripTrailing(); // %n and the like, as picocli formats them
            int width = commandSpec().usageMessage().width();
            if (formatted.length() <= width) {
                out.append(formatted).append(System.lineSeparator());
                continue;
            }
            String indent = formatted.substring(0, formatted.length() - formatted.stripLeading().length());
            String body = WholeWordTable.wrap(formatted, width - indent.length());
            out.append(indent).append(body.replace("\n", System.lineSeparator() + indent)).append(System.lineSeparator());
        }
        return out.toString();
    }

    /** A table whose last (description) column breaks lines at whitespace only, one row per line. */
    private static final class WholeWordTable extends TextTable {
        private final ColorScheme colors;

        WholeWordTable(ColorScheme colors, Column[] columns) {
            super(colors, columns);
            this.colors = colors;
        }

        @Override
        public Cell putValue(int row, int col, Text value) {
            Column c = columns()[col];
            String plain = value.plainString();
            if (col != columns().length - 1 || c.overflow != Column.Overflow.WRAP || !value.toString().equals(plain)) {
                return super.putValue(row, col, value);
            }
            String[] lines = wrap(plain, c.width - c.indent - indentWrappedLines - 1).split("\n", -1);
            Cell last = super.putValue(row, col, colors.text(lines[0]));
            for (int i = 1; i < lines.length; i++) {
                if (rowCount() <= row + i) addEmptyRow();
                last = super.putValue(row + i, col, colors.text(" ".repeat(indentWrappedLines) + lines[i]));
            }
            return last;
        }

        /** {@code text} with a line break before each word that would pass {@code width}; a longer word keeps a line of its own. */
        static String wrap(String text, int width) {
            StringBuilder out = new StringBuilder();
            for (String paragraph : text.split("\n", -1)) {
                if (out.length() > 0) out.append('\n');
                int lineLength = 0;
                for (String word : paragraph.trim().split(" +")) {
                    if (word.isEmpty()) continue;
                    if (lineLength > 0 && lineLength + 1 + word.length() > width) {
                        out.append('\n');
                        lineLength = 0;
                    } else if (lineLength > 0) {
                        out.append(' ');
                        lineLength++;
                    }
                    out.append(word);
                    lineLength += word.length();
                }
            }
            return out.toString();
        }
    }
}
