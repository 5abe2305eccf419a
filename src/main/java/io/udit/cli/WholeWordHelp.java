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

/**
 * Help pages whose option and parameter descriptions wrap at spaces only. picocli breaks lines wherever a line-break
 * iterator allows, which splits file names and specs such as "log.jsonl" or "fashion-mnist[:DIR]" in two; here each
 * description is wrapped at whitespace first, so every word stays whole on one line.
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

    /** A table whose last (description) column breaks lines at whitespace only. */
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
            return super.putValue(row, col, colors.text(wrap(plain, c.width - c.indent - indentWrappedLines - 1)));
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
