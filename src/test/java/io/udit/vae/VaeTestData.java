package io.udit.vae;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** Small VAEs and image folders made on the spot (no downloads). */
final class VaeTestData {
    private VaeTestData() {}

    /** 32x32 images -> 16x16x4 latents; sample_size 32 so 16x16 latents decode untiled. */
    static AutoencoderKLConfig smallConfig() {
        return AutoencoderKLConfig.small(List.of(32, 64), 1, 8, 32);
    }

    static Path vaeFolder(Path dir, boolean safetensors, VaeWeights.Naming naming) throws Exception {
        Vae.random(smallConfig(), 7).save(dir, safetensors, naming);
        return dir;
    }

    /** root/<class>/<i>.png: discs and bars on coloured backgrounds, w x h pixels. */
    static Path imageFolder(Path root, int classes, int perClass, int w, int h) throws Exception {
        Random r = new Random(3);
        for (int c = 0; c < classes; c++) {
            Path dir = Files.createDirectories(root.resolve("class" + c));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
                g.fillRect(0, 0, w, h);
                g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
                if (c % 2 == 0) g.fillOval(r.nextInt(w / 2), r.nextInt(h / 2), w / 2, h / 2);
                else g.fillRect(r.nextInt(w / 2), 0, w / 4, h);
                g.dispose();
                ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
            }
        }
        return root;
    }

    /** A tiny U-DiT on 16x16x4 latents. */
    static Path udtConfig(Path dir, int classes) throws Exception {
        Path p = dir.resolve("tiny-udit.json");
        Files.writeString(p, "{\"input_size\": 16, \"in_channels\": 4, \"hidden_size\": 16, \"num_heads\": 2, \"depth\": [1, 1, 1, 1, 1],"
                + " \"mlp_ratio\": 2, \"num_classes\": " + classes + ", \"attn_type\": \"v2\", \"posemb_type\": \"rope2d\","
                + " \"downsampler\": \"dwconv5\", \"down_shortcut\": 1}");
        return p;
    }
}
