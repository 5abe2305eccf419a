package io.udit.train;

import io.udit.engine.NativeScopes;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorType;
import org.bytedeco.pytorch.Tuple;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with torch::optim::AdamW's arithmetic (decoupled weight decay, bias-corrected moments, eps added to the
 * corrected square root), run by libtorch's fused CPU kernel {@code aten::_fused_adamw_}: one pass per parameter
 * over weight, gradient and both moments, where torch::optim::AdamW runs one pass per elementwise op (about twenty).
 * The JavaCPP presets have no binding for the fused op, so it is called through the dispatcher.
 *
 * <p>The state is saved and loaded in torch::optim::AdamW's archive layout ("state/KEY/{step,exp_avg,exp_avg_sq}",
 * "param_groups/0/{params/I, options}"), so checkpoints written by either read with the other.
 */
public final class FusedAdamW {
    private static final OperatorHandle FUSED = Dispatcher.singleton().findSchemaOrThrow("aten::_fused_adamw_", "");

    private final List<Tensor> params;
    private final Map<Long, Integer> indexByImpl = new HashMap<>(); // a parameter's TensorImpl address -> its index
    private final Tensor[] expAvg, expAvgSq;
    private final long[] steps; // 0: the parameter has no state yet (never updated, or none loaded)
    private double lr;
    private final double beta1, beta2, eps, weightDecay;

    /** The optimizer over {@code params} (dense tensors, as a module's parameters are). */
    public FusedAdamW(List<Tensor> params, double lr, double beta1, double beta2, double weightDecay, double eps) {
        for (Tensor p : params) {
            if (!p.is_non_overlapping_and_dense()) throw new IllegalArgumentException("FusedAdamW needs dense parameters");
        }
        this.params = List.copyOf(params);
        for (int i = 0; i < this.params.size(); i++) indexByImpl.put(this.params.get(i).unsafeGetTensorImpl().address(), i);
        this.expAvg = new Tensor[params.size()];
        this.expAvgSq = new Tensor[params.size()];
        this.steps = new long[params.size()];
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
        this.eps = eps;
        // The moments are allocated before the first forward, so they sit below the memory that every step's
        // activations and gradients reuse; allocated at the first update, between the step's transients, they left
        // glibc's heap more fragmented and the checkpointed U-DiT-B step's peak higher (docs/performance.md).
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < this.params.size(); i++) {
                // the moments live as long as the optimizer, past the caller's native scopes
                expAvg[i] = NativeScopes.escape(torch.zeros_like(this.params.get(i)));
                expAvgSq[i] = NativeScopes.escape(torch.zeros_like(this.params.get(i)));
            }
        }
    }

    /** With torch.optim.AdamW's eps (1e-8). */
    public FusedAdamW(List<Tensor> params, double lr, double beta1, double beta2, double weightDecay) {
        this(params, lr, beta1, beta2, weightDecay, 1e-8);
    }

    public void setLearningRate(double lr) {
        this.lr = lr;
    }

    /** Drops every parameter's gradient (as torch's zero_grad(set_to_none = true)). */
    public void zeroGrad() {
        for (Tensor p : params) p.mutable_grad().reset();
    }

    /** One update of every parameter that has a gradient. */
    public void step() {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) idx.add(i);
        stepOver(idx);
    }

    /**
     * One update of those of {@code some} (parameters of this optimizer, as other wrappers of the same tensors) that
     * have a gradient, whose gradients are then dropped; {@link #step} later updates only the parameters it did not
     * reach. The arithmetic is that of {@link #step}: each parameter is updated once per step either way.
     */
    public void stepAndDropGradients(List<Tensor> some) {
        List<Integer> idx = new ArrayList<>();
        for (Tensor t : some) {
            Integer i = indexByImpl.get(t.unsafeGetTensorImpl().address());
            if (i == null) throw new IllegalArgumentException("not a parameter of this optimizer");
            if (!idx.contains(i)) idx.add(i);
        }
        // in a scope of its own: the gradients' Java handles made here go with it, so dropping frees the memory now
        try (PointerScope scope = new PointerScope()) {
            stepOver(idx);
        }
        for (int i : idx) params.get(i).mutable_grad().reset();
    }

    private void stepOver(List<Integer> candidates) {
        try (NoGradGuard g = new NoGradGuard()) {
            // the kernel takes one step count per tensor; parameters updated equally often share one tensor
            List<Integer> idx = new ArrayList<>();
            for (int i : candidates) {
                if (!params.get(i).grad().defined()) continue;
                steps[i]++;
                idx.add(i);
            }
            while (!idx.isEmpty()) {
                long s = steps[idx.get(0)];
                List<Integer> group = new ArrayList<>(), rest = new ArrayList<>();
                for (int i : idx) (steps[i] == s ? group : rest).add(i);
                update(group, s);
                idx = rest;
            }
        }
    }

    private void update(List<Integer> group, long step) {
        GenericList p = tensorList(), gr = tensorList(), m = tensorList(), v = tensorList(), st = tensorList();
        Tensor stepTensor = torch.full(new long[0], new org.bytedeco.pytorch.Scalar((double) step),
                new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Float));
        for (int i : group) {
            Tensor param = params.get(i);
            p.push_back(new IValue(flat(param)));
            gr.push_back(new IValue(flat(sameLayout(param.grad(), param))));
            m.push_back(new IValue(flat(expAvg[i])));
            v.push_back(new IValue(flat(expAvgSq[i])));
            st.push_back(new IValue(stepTensor));
        }
        IValueVector stack = new IValueVector();
        stack.push_back(new IValue(p));
        stack.push_back(new IValue(gr));
        stack.push_back(new IValue(m));
        stack.push_back(new IValue(v));
        stack.push_back(new IValue(tensorList())); // max_exp_avg_sqs: no amsgrad
        stack.push_back(new IValue(st));
        stack.push_back(new IValue(lr));
        stack.push_back(new IValue(beta1));
        stack.push_back(new IValue(beta2));
        stack.push_back(new IValue(weightDecay));
        stack.push_back(new IValue(eps));
        stack.push_back(new IValue(false)); // amsgrad
        stack.push_back(new IValue(false)); // maximize
        stack.push_back(new IValue()); // grad_scale
        stack.push_back(new IValue()); // found_inf
        Dispatcher.singleton().callBoxed(FUSED, stack);
    }

    private static GenericList tensorList() {
        return new GenericList(new Type.TypePtr(TensorType.get()));
    }

    /** The tensor's memory as one flat run, so the kernel sees the same element order in all four tensors. */
    private static Tensor flat(Tensor t) {
        return t.as_strided(new long[] {t.numel()}, new long[] {1}, new org.bytedeco.pytorch.LongOptional(t.storage_offset()));
    }

    /**
     * The gradient with its parameter's element order in memory: the gradient itself when it has it (strides may
     * differ on axes of size 1, as between a 1x1 conv weight and its channels-last gradient), else a copy.
     */
    static Tensor sameLayout(Tensor grad, Tensor param) {
        if (grad.is_non_overlapping_and_dense() && sameOrder(grad.sizes().vec().get(), grad.strides().vec().get(),
                param.strides().vec().get())) {
            return grad;
        }
        return torch.empty_like(param).copy_(grad);
    }

    /** Whether two dense layouts of one shape store the elements in the same order (size-1 axes do not count). */
    static boolean sameOrder(long[] sizes, long[] a, long[] b) {
        for (int d = 0; d < sizes.length; d++) {
            if (sizes[d] != 1 && a[d] != b[d]) return false;
        }
        return true;
    }

    /** Writes the state in torch::optim::AdamW's layout (parameters keyed by their index). */
    public void save(OutputArchive archive) {
        archive.write("pytorch_version", new IValue("1.5.0"));
        OutputArchive state = new OutputArchive(archive.compilation_unit());
        for (int i = 0; i < params.size(); i++) {
            if (steps[i] == 0) continue; // as torch::optim::AdamW: no state before the first update
            OutputArchive s = new OutputArchive(archive.compilation_unit());
            s.write("step", new IValue(steps[i]));
            s.write("exp_avg", expAvg[i]);
            s.write("exp_avg_sq", expAvgSq[i]);
            state.write(Integer.toString(i), s);
        }
        archive.write("state", state);
        OutputArchive groups = new OutputArchive(archive.compilation_unit());
        groups.write("param_groups/size", torch.scalar_tensor(new org.bytedeco.pytorch.Scalar(1L),
                new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long)));
        OutputArchive group = new OutputArchive(archive.compilation_unit());
        group.write("params/size", torch.scalar_tensor(new org.bytedeco.pytorch.Scalar((long) params.size()),
                new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long)));
        for (int i = 0; i < params.size(); i++) group.write("params/" + i, new IValue(Integer.toString(i)));
        OutputArchive options = new OutputArchive(archive.compilation_unit());
        options.write("lr", new IValue(lr));
        options.write("betas", new IValue(Tuple.create(new IValue(beta1), new IValue(beta2))));
        options.write("eps", new IValue(eps));
        options.write("weight_decay", new IValue(weightDecay));
        options.write("amsgrad", new IValue(false));
        group.write("options", options);
        groups.write("param_groups/0", group);
        archive.write("param_groups", groups);
    }

    /**
     * Reads a state saved by {@link #save} or by torch::optim::AdamW over the same parameters. The moments and step
     * counts are restored; the hyper-parameters stay this optimizer's (the run config sets them, as with libtorch's
     * optimizer, whose learning rate the trainer sets every step).
     */
    public void load(InputArchive archive) {
        InputArchive groups = new InputArchive(), group = new InputArchive(), state = new InputArchive();
        archive.read("param_groups", groups);
        Tensor nGroups = new Tensor();
        groups.read("param_groups/size", nGroups);
        if (nGroups.item_long() != 1) throw new IllegalArgumentException("optimizer state has " + nGroups.item_long() + " parameter groups, not 1");
        groups.read("param_groups/0", group);
        Tensor n = new Tensor();
        group.read("params/size", n);
        if (n.item_long() != params.size()) {
            throw new IllegalArgumentException("optimizer state holds " + n.item_long() + " parameters, the model has " + params.size());
        }
        archive.read("state", state);
        // everything is read and checked before any moment changes, so a refused state leaves this one as it was
        Tensor[] m = new Tensor[params.size()], v = new Tensor[params.size()];
        long[] s = new long[params.size()];
        for (int i = 0; i < params.size(); i++) {
            IValue key = new IValue();
            group.read("params/" + i, key);
            InputArchive ps = new InputArchive();
            if (!state.try_read(key.toStringRef().getString(), ps)) continue;
            IValue step = new IValue();
            ps.read("step", step);
            Tensor a = new Tensor(), b = new Tensor();
            ps.read("exp_avg", a);
            ps.read("exp_avg_sq", b);
            Tensor p = params.get(i);
            if (!java.util.Arrays.equals(a.sizes().vec().get(), p.sizes().vec().get())
                    || !java.util.Arrays.equals(b.sizes().vec().get(), p.sizes().vec().get())) {
                throw new IllegalArgumentException("optimizer state of parameter " + i + " does not match its shape");
            }
            s[i] = step.toInt();
            if (s[i] < 0) throw new IllegalArgumentException("optimizer state of parameter " + i + " has a negative step count");
            m[i] = a;
            v[i] = b;
        }
        // into the moments' own memory (in their parameter's layout): no second set of moments during a resume
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < params.size(); i++) {
                if (m[i] == null) {
                    expAvg[i].zero_();
                    expAvgSq[i].zero_();
                } else {
                    expAvg[i].copy_(m[i]);
                    expAvgSq[i].copy_(v[i]);
                }
                steps[i] = s[i];
            }
        }
    }

    /** The first moment of parameter i (tests). */
    Tensor firstMoment(int i) {
        return expAvg[i];
    }
}
