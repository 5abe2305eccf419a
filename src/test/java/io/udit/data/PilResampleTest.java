package io.udit.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Bit-exactness against Pillow 9.4 outputs made by src/test/resources/io/udit/data/pil/make_fixtures.py. */
class PilResampleTest {

    /** The same pattern as make_fixtures.py: RGB bytes, row-major. */
    static byte[] pattern(int w, int h) {
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) {
                    int v = (x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 11) & 0xff;
                    if (y >= h / 3 && y < h / 2 && x >= w / 4 && x < w / 2) v = 255;
                    if (y >= h / 2 && y < 2 * h / 3 && x >= w / 4 && x < w / 2) v = 0;
                    out[(y * w + x) * 3 + c] = (byte) v;
                }
        return out;
    }

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = PilResampleTest.class.getResourceAsStream("pil/" + name + ".rgb")) {
            assertNotNull(in, "fixture " + name);
            return in.readAllBytes();
        }
    }

    static void assertSame(byte[] expected, byte[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        int diffs = 0, max = 0, first = -1;
        for (int i = 0; i < expected.length; i++) {
            int d = Math.abs((expected[i] & 0xff) - (actual[i] & 0xff));
            if (d != 0) {
                diffs++;
                if (first < 0) first = i;
            }
            max = Math.max(max, d);
        }
        assertEquals(0, diffs, what + ": " + diffs + " bytes differ from Pillow, max by " + max + ", first at " + first);
    }

    @Test
    void boxAndBicubicMatchPillow() throws IOException {
        assertSame(fixture("box_67x45_to_33x22"),
                PilResample.resize(pattern(67, 45), 67, 45, 3, 33, 22, PilResample.Filter.BOX), "box 67x45->33x22");
        assertSame(fixture("box_64x64_to_32x32"),
                PilResample.resize(pattern(64, 64), 64, 64, 3, 32, 32, PilResample.Filter.BOX), "box 64->32");
        assertSame(fixture("bicubic_67x45_to_29x19"),
                PilResample.resize(pattern(67, 45), 67, 45, 3, 29, 19, PilResample.Filter.BICUBIC), "bicubic down");
        assertSame(fixture("bicubic_67x45_to_67x20"),
                PilResample.resize(pattern(67, 45), 67, 45, 3, 67, 20, PilResample.Filter.BICUBIC), "vertical only");
        assertSame(fixture("bicubic_67x45_to_30x45"),
                PilResample.resize(pattern(67, 45), 67, 45, 3, 30, 45, PilResample.Filter.BICUBIC), "horizontal only");
        assertSame(fixture("bicubic_13x9_to_30x21"),
                PilResample.resize(pattern(13, 9), 13, 9, 3, 30, 21, PilResample.Filter.BICUBIC), "bicubic up");
    }

    @Test
    void boxHalvingIsTheTwoByTwoMeanForEvenSizes() {
        byte[] src = pattern(8, 6);
        byte[] out = PilResample.resize(src, 8, 6, 3, 4, 3, PilResample.Filter.BOX);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                for (int c = 0; c < 3; c++) {
                    int[] row = new int[2];
                    for (int dy = 0; dy < 2; dy++) {
                        int a = src[((2 * y + dy) * 8 + 2 * x) * 3 + c] & 0xff;
                        int b = src[((2 * y + dy) * 8 + 2 * x + 1) * 3 + c] & 0xff;
                        row[dy] = (a + b + 1) / 2; // horizontal pass, rounded half up to 8 bits
                    }
                    assertEquals((row[0] + row[1] + 1) / 2, out[(y * 4 + x) * 3 + c] & 0xff, x + "," + y + "," + c);
                }
    }

    @Test
    void centerCropArrMatchesPillow() throws IOException {
        int[][] cases = {{150, 101, 32}, {301, 517, 64}, {40, 33, 32}, {20, 27, 32}};
        String[] names = {"crop_150x101_to_32", "crop_301x517_to_64", "crop_40x33_to_32", "crop_20x27_to_32"};
        for (int i = 0; i < cases.length; i++) {
            int w = cases[i][0], h = cases[i][1], s = cases[i][2];
            byte[] got = ImageFolder.centerCrop(new Images.Rgb(w, h, pattern(w, h)), s, true, Path.of(names[i]));
            assertSame(fixture(names[i]), got, names[i]);
        }
        DataException e = assertThrows(DataException.class,
                () -> ImageFolder.centerCrop(new Images.Rgb(20, 27, pattern(20, 27)), 32, false, Path.of("small.png")));
        assertTrue(e.getMessage().contains("small.png") && e.getMessage().contains("20x27"), e.getMessage());
    }

    @Test
    void sameSizeIsIdentity() {
        byte[] src = pattern(5, 7);
        assertSame(src, PilResample.resize(src, 5, 7, 3, 5, 7, PilResample.Filter.BICUBIC), "identity");
    }
}
