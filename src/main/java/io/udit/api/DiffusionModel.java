package io.udit.api;

import io.udit.engine.Tensors;
import io.udit.model.Backbone;
import io.udit.model.ModelConfig;
import io.udit.report.ImageGrid;
import io.udit.sample.SampleRequest;
import io.udit.sample.Sampling;
import io.udit.transport.Transport;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** A loaded network ready to sample: results come back as Java arrays or images, never as native tensors. */
public final class DiffusionModel {
    private final Backbone network;
    private final String noiseSchedule;
    private final Transport transport;

    /** A network with what its run recorded: the DDPM noise schedule, or the flow-matching transport (else null). */
    DiffusionModel(Backbone network, String noiseSchedule, Transport transport) {
        this.network = network;
        this.noiseSchedule = noiseSchedule;
        this.transport = transport;
    }

    public ModelConfig config() {
        return network.config();
    }

    /** The underlying libtorch network (for advanced use: custom samplers, fine-tuning). */
    public Backbone network() {
        return network;
    }

    /**
     * A request for one image per label with this API's defaults: the noise schedule (or flow transport) the model was
     * trained with; DPM-Solver++ with 25 steps for a DDPM model, Heun with 25 grid points for a flow model; no
     * guidance, seed 0, x0 clipping, 32 images per batch. Every other setting of {@link SampleRequest.Builder}
     * (guidance scale and interval, sampler, seed, ...) can be changed before {@code build()}.
     */
    public SampleRequest.Builder request(long... labels) {
        SampleRequest.Builder b = SampleRequest.builder(labels).steps(25).clip(true).batchSize(32).noiseSchedule(noiseSchedule);
        return transport != null ? b.sampler("heun2").transport(transport) : b.sampler("dpm++");
    }

    /** Samples one image per label of {@code r}; returns N*C*H*W floats (images in about [-1, 1], or latents). */
    public float[] sampleArray(SampleRequest r, Sampling.Progress progress) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloats(generate(r, progress));
        }
    }

    /** Samples one image per label as uint8 NHWC, mapped like the reference's sample_ddp.py. */
    public byte[] sampleUint8(SampleRequest r, Sampling.Progress progress) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toBytes(Sampling.toUint8Nhwc(generate(r, progress)));
        }
    }

    /** Samples one image per label as BufferedImages (pixel-space models). */
    public List<BufferedImage> sampleImages(SampleRequest r, Sampling.Progress progress) {
        byte[] hwc = sampleUint8(r, progress);
        int c = config().inChannels(), s = config().inputSize(), per = s * s * c;
        List<BufferedImage> out = new ArrayList<>();
        for (int i = 0; i < r.count(); i++) {
            out.add(ImageGrid.toImage(java.util.Arrays.copyOfRange(hwc, i * per, (i + 1) * per), s, s, c));
        }
        return out;
    }

    private Tensor generate(SampleRequest r, Sampling.Progress progress) {
        return Sampling.generate(network, r, progress == null ? Sampling.Progress.NONE : progress);
    }
}
