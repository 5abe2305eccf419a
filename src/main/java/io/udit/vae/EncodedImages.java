package io.udit.vae;

import io.udit.data.DataException;
import io.udit.data.Dataset;
import io.udit.engine.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * An image dataset seen through the VAE: each read decodes and crops the image (and flips it, as the wrapped dataset
 * does with the read's rng), encodes it and returns the scaled posterior sample, a fresh one per read (noise seeded
 * from the read's rng, so a training run is still reproducible and resumable). This is DiT's train.py path, which
 * encodes every batch on the fly; pre-encoding with {@code udit encode} is much cheaper when a dataset is seen more
 * than once.
 *
 * <p>Loader threads call {@link #read} concurrently: each call runs in its own PointerScope and InferenceMode
 * (inside {@link Vae#encode}) on its own thread, and hands back plain floats, so nothing of it reaches autograd.
 */
public final class EncodedImages implements Dataset {
    private final Dataset images;
    private final Vae vae;
    private final int latentResolution;
    private final ThreadLocal<float[]> buffer;

    public EncodedImages(Dataset images, Vae vae) {
        if (!images.isImage()) throw new DataException(images.describe() + " already holds latents: train on it without --vae");
        AutoencoderKLConfig c = vae.config();
        if (images.channels() != c.inChannels())
            throw new DataException(images.describe() + " has " + images.channels() + " channels, the VAE encodes " + c.inChannels());
        if (images.resolution() % c.downsampleFactor() != 0)
            throw new DataException("image resolution " + images.resolution() + " is not a multiple of the VAE's downsampling factor "
                    + c.downsampleFactor());
        this.images = images;
        this.vae = vae;
        this.latentResolution = images.resolution() / c.downsampleFactor();
        int n = images.sampleSize();
        this.buffer = ThreadLocal.withInitial(() -> new float[n]);
    }

    @Override public int size() { return images.size(); }
    @Override public int numClasses() { return images.numClasses(); }
    @Override public int channels() { return vae.config().latentChannels(); }
    @Override public int resolution() { return latentResolution; }
    @Override public List<String> classNames() { return images.classNames(); }
    @Override public boolean isImage() { return false; }

    /** The VAE whose latents these are (previews decode samples with it). */
    public Vae vae() { return vae; }

    @Override
    public String describe() {
        return images.describe() + ", encoded on the fly by the VAE (" + vae.describe() + ") to " + channels() + "x"
                + latentResolution + "x" + latentResolution + " latents";
    }

    @Override
    public int read(int index, float[] dst, SplittableRandom rng) {
        float[] img = buffer.get();
        int label = images.read(index, img, rng);
        long seed = rng != null ? rng.nextLong() & Long.MAX_VALUE : io.udit.data.Seeds.item(0, 0x4E4F4953L, index);
        int r = images.resolution();
        try (PointerScope s = new PointerScope()) {
            Tensor x = Tensors.floats(img, 1, images.channels(), r, r);
            float[] z = Tensors.toFloats(vae.encode(x, new long[] {seed}));
            System.arraycopy(z, 0, dst, 0, z.length);
        }
        return label;
    }
}
