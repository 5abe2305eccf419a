package io.udit.vae;

import io.udit.engine.NativeScopes;
import io.udit.engine.Tensors;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.List;

/**
 * The layers of diffusers' AutoencoderKL (Encoder, Decoder, UNetMidBlock2D, ResnetBlock2D, the mid-block Attention,
 * Downsample2D / Upsample2D), registered under diffusers' attribute names and in its registration order, so
 * {@code named_parameters()} yields the released state-dict keys in {@code state_dict()} order.
 *
 * <p>Inference only: parameters do not require grad, and the forward passes are meant to run under InferenceMode.
 * Activations stay in channels-last memory (oneDNN's convolutions and the CPU group norm have NHWC kernels, and the
 * attention's token view of an NHWC map is free). Each block runs in its own native scope and the SiLU after a group
 * norm is in place, so at most about four activations of the widest layer are alive at once.
 */
public final class VaeBlocks {
    private VaeBlocks() {}

    /** GroupNorm and ResNet epsilon of every diffusers VAE layer. */
    static final double EPS = 1e-6;

    static Tensor param(long... shape) {
        return Tensors.zeros(ScalarType.Float, shape);
    }

    /** nn.Conv2d with a square kernel, given stride and symmetric padding, with bias. */
    public static final class Conv extends Module {
        final Tensor weight, bias;
        final long stride, pad;

        Conv(int in, int out, int kernel, int stride, int pad) {
            this.weight = param(out, in, kernel, kernel);
            this.bias = param(out);
            this.stride = stride;
            this.pad = pad;
            register_parameter("weight", weight, false);
            register_parameter("bias", bias, false);
        }

        /** A 3x3 convolution with padding 1, or a 1x1 without. */
        static Conv same(int in, int out, int kernel) {
            return new Conv(in, out, kernel, 1, (kernel - 1) / 2);
        }

        Tensor forward(Tensor x) {
            return torch.conv2d(x, weight, new TensorOptional(bias), new long[] {stride, stride}, new long[] {pad, pad},
                    new long[] {1, 1}, 1);
        }
    }

    /** nn.GroupNorm(groups, channels, eps=1e-6) with affine weight and bias. */
    public static final class GroupNorm extends Module {
        final Tensor weight, bias;
        final int groups;

        GroupNorm(int groups, int channels) {
            this.groups = groups;
            this.weight = param(channels);
            this.bias = param(channels);
            register_parameter("weight", weight, false);
            register_parameter("bias", bias, false);
        }

        Tensor forward(Tensor x) {
            return torch.group_norm(x, groups, new TensorOptional(weight), new TensorOptional(bias), EPS, false);
        }

        /**
         * group_norm then SiLU in place (the norm's output is a fresh tensor). The static in-place op returns an unowned
         * alias of its argument's handle, so return the owned handle instead: the alias dangles once that is freed.
         */
        Tensor forwardSilu(Tensor x) {
            Tensor h = forward(x);
            torch.silu_(h);
            return h;
        }
    }

    /** nn.Linear(c, c) with bias (the attention projections). */
    public static final class Linear extends Module {
        final Tensor weight, bias;

        Linear(int in, int out) {
            this.weight = param(out, in);
            this.bias = param(out);
            register_parameter("weight", weight, false);
            register_parameter("bias", bias, false);
        }

        Tensor forward(Tensor x) {
            return io.udit.model.Layers.linear(x, weight, bias); // oneDNN fast path for the mid-block attention tokens
        }
    }

    /** ResnetBlock2D without time embedding: shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x)))))). */
    public static final class ResnetBlock extends Module {
        final GroupNorm norm1, norm2;
        final Conv conv1, conv2, shortcut;

        ResnetBlock(int in, int out, int groups) {
            norm1 = register_module("norm1", new GroupNorm(groups, in));
            conv1 = register_module("conv1", Conv.same(in, out, 3));
            norm2 = register_module("norm2", new GroupNorm(groups, out));
            conv2 = register_module("conv2", Conv.same(out, out, 3));
            shortcut = in != out ? register_module("conv_shortcut", Conv.same(in, out, 1)) : null;
        }

        Tensor forward(Tensor x) {
            return NativeScopes.scoped(() -> {
                Tensor h1 = NativeScopes.scoped(() -> conv1.forward(norm1.forwardSilu(x)));
                Tensor h2 = NativeScopes.scoped(() -> conv2.forward(norm2.forwardSilu(h1)));
                return h2.add_(shortcut == null ? x : shortcut.forward(x));
            });
        }
    }

    /**
     * The mid-block Attention: one head over all H*W positions, softmax(q k^T / sqrt(C)) v, output projection and
     * residual. Keys {@code to_q, to_k, to_v, to_out.0}; the loader maps the older {@code query, key, value,
     * proj_attn} onto them.
     */
    public static final class Attention extends Module {
        final GroupNorm groupNorm;
        final Linear toQ, toK, toV, toOut;
        final int channels;

        Attention(int channels, int groups) {
            this.channels = channels;
            groupNorm = register_module("group_norm", new GroupNorm(groups, channels));
            toQ = register_module("to_q", new Linear(channels, channels));
            toK = register_module("to_k", new Linear(channels, channels));
            toV = register_module("to_v", new Linear(channels, channels));
            Module out = new Module();
            toOut = out.register_module("0", new Linear(channels, channels));
            register_module("to_out", out);
        }

        Tensor forward(Tensor x) {
            return NativeScopes.scoped(() -> {
                long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
                // (N, C, H, W) -> (N, H*W, C): a view when x is channels-last
                Tensor t = groupNorm.forward(x).permute(0, 2, 3, 1).reshape(n, h * w, c);
                Tensor q = toQ.forward(t).unsqueeze(1), k = toK.forward(t).unsqueeze(1), v = toV.forward(t).unsqueeze(1);
                Tensor a = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, false,
                        new DoubleOptional(1.0 / Math.sqrt(channels)), false).squeeze(1);
                Tensor o = toOut.forward(a).reshape(n, h, w, c).permute(0, 3, 1, 2); // channels-last memory again
                return o.add_(x);
            });
        }
    }

    /** UNetMidBlock2D: resnets.0, attentions.0, resnets.1 (attentions registered first, as diffusers). */
    public static final class MidBlock extends Module {
        final Attention attention;
        final ResnetBlock first, second;

        MidBlock(int channels, int groups, boolean withAttention) {
            Module attentions = new Module();
            attention = withAttention ? attentions.register_module("0", new Attention(channels, groups)) : null;
            if (withAttention) register_module("attentions", attentions);
            Module resnets = new Module();
            first = resnets.register_module("0", new ResnetBlock(channels, channels, groups));
            second = resnets.register_module("1", new ResnetBlock(channels, channels, groups));
            register_module("resnets", resnets);
        }

        Tensor forward(Tensor x) {
            Tensor h = first.forward(x);
            if (attention != null) h = attention.forward(h);
            return second.forward(h);
        }
    }

    /** DownEncoderBlock2D: resnets, then (except the last block) a stride-2 3x3 conv on the input padded (0,1,0,1). */
    public static final class DownBlock extends Module {
        final ResnetBlock[] resnets;
        final Conv down;

        DownBlock(int in, int out, int layers, int groups, boolean downsample) {
            Module rs = new Module();
            resnets = new ResnetBlock[layers];
            for (int i = 0; i < layers; i++) resnets[i] = rs.register_module(Integer.toString(i), new ResnetBlock(i == 0 ? in : out, out, groups));
            register_module("resnets", rs);
            if (downsample) {
                Module ds = new Module(), d0 = new Module();
                down = d0.register_module("conv", new Conv(out, out, 3, 2, 0));
                ds.register_module("0", d0);
                register_module("downsamplers", ds);
            } else {
                down = null;
            }
        }

        Tensor forward(Tensor x) {
            for (ResnetBlock r : resnets) x = r.forward(x);
            if (down == null) return x;
            Tensor in = x;
            return NativeScopes.scoped(() -> down.forward(torch.constant_pad_nd(in, 0, 1, 0, 1)
                    .contiguous(torch.MemoryFormat.ChannelsLast)));
        }
    }

    /** UpDecoderBlock2D: resnets, then (except the last block) nearest 2x upsampling and a 3x3 conv. */
    public static final class UpBlock extends Module {
        final ResnetBlock[] resnets;
        final Conv up;

        UpBlock(int in, int out, int layers, int groups, boolean upsample) {
            Module rs = new Module();
            resnets = new ResnetBlock[layers];
            for (int i = 0; i < layers; i++) resnets[i] = rs.register_module(Integer.toString(i), new ResnetBlock(i == 0 ? in : out, out, groups));
            register_module("resnets", rs);
            if (upsample) {
                Module us = new Module(), u0 = new Module();
                up = u0.register_module("conv", Conv.same(out, out, 3));
                us.register_module("0", u0);
                register_module("upsamplers", us);
            } else {
                up = null;
            }
        }

        Tensor forward(Tensor x) {
            for (ResnetBlock r : resnets) x = r.forward(x);
            if (up == null) return x;
            Tensor in = x;
            return NativeScopes.scoped(() -> up.forward(torch.upsample_nearest2d(in, 2 * in.size(2), 2 * in.size(3))
                    .contiguous(torch.MemoryFormat.ChannelsLast)));
        }
    }

    /** Encoder: conv_in, down_blocks, mid_block, conv_norm_out + SiLU, conv_out (2 x latent channels). */
    public static final class Encoder extends Module {
        final Conv convIn, convOut;
        final DownBlock[] downBlocks;
        final MidBlock mid;
        final GroupNorm normOut;

        Encoder(AutoencoderKLConfig c) {
            List<Integer> boc = c.blockOutChannels();
            int g = c.normNumGroups();
            convIn = register_module("conv_in", Conv.same(c.inChannels(), boc.get(0), 3));
            Module blocks = new Module();
            downBlocks = new DownBlock[boc.size()];
            int out = boc.get(0);
            for (int i = 0; i < boc.size(); i++) {
                int in = out;
                out = boc.get(i);
                downBlocks[i] = blocks.register_module(Integer.toString(i),
                        new DownBlock(in, out, c.layersPerBlock(), g, i != boc.size() - 1));
            }
            register_module("down_blocks", blocks);
            mid = register_module("mid_block", new MidBlock(boc.get(boc.size() - 1), g, c.midBlockAttention()));
            normOut = register_module("conv_norm_out", new GroupNorm(g, boc.get(boc.size() - 1)));
            convOut = register_module("conv_out", Conv.same(boc.get(boc.size() - 1), 2 * c.latentChannels(), 3));
        }

        Tensor forward(Tensor x) {
            Tensor h = NativeScopes.scoped(() -> convIn.forward(x.contiguous(torch.MemoryFormat.ChannelsLast)));
            for (DownBlock b : downBlocks) h = b.forward(h);
            Tensor m = mid.forward(h);
            return NativeScopes.scoped(() -> convOut.forward(normOut.forwardSilu(m)));
        }
    }

    /** Decoder: conv_in, mid_block, up_blocks (widths reversed, layers + 1 resnets), conv_norm_out + SiLU, conv_out. */
    public static final class Decoder extends Module {
        final Conv convIn, convOut;
        final UpBlock[] upBlocks;
        final MidBlock mid;
        final GroupNorm normOut;

        Decoder(AutoencoderKLConfig c) {
            List<Integer> boc = c.blockOutChannels();
            int g = c.normNumGroups(), levels = boc.size();
            convIn = register_module("conv_in", Conv.same(c.latentChannels(), boc.get(levels - 1), 3));
            Module blocks = new Module();
            register_module("up_blocks", blocks); // registered (empty) before mid_block, as in diffusers
            mid = register_module("mid_block", new MidBlock(boc.get(levels - 1), g, c.midBlockAttention()));
            upBlocks = new UpBlock[levels];
            int out = boc.get(levels - 1);
            for (int i = 0; i < levels; i++) {
                int in = out;
                out = boc.get(levels - 1 - i);
                upBlocks[i] = blocks.register_module(Integer.toString(i),
                        new UpBlock(in, out, c.layersPerBlock() + 1, g, i != levels - 1));
            }
            normOut = register_module("conv_norm_out", new GroupNorm(g, boc.get(0)));
            convOut = register_module("conv_out", Conv.same(boc.get(0), c.outChannels(), 3));
        }

        Tensor forward(Tensor z) {
            Tensor h = NativeScopes.scoped(() -> convIn.forward(z.contiguous(torch.MemoryFormat.ChannelsLast)));
            h = mid.forward(h);
            for (UpBlock b : upBlocks) h = b.forward(h);
            Tensor last = h;
            return NativeScopes.scoped(() -> convOut.forward(normOut.forwardSilu(last)));
        }
    }
}
