using TorchSharp.Modules;
using VaeLab.Runtime;
using static TorchSharp.torch;

using VaeLab.Kernels;

namespace VaeLab.Optimization;

/// <summary>
/// Adam (Kingma and Ba 2015, with PyTorch's conventions: bias-corrected moments, ε added to √v̂, L2 weight
/// decay added to the gradient) over all parameters at once. The parameters and their gradients are
/// re-pointed into two contiguous buffers, so the gradient norm is one reduction and a step is one pass over
/// the buffers on CPU (<see cref="FusedAdam"/>) or seven tensor operations elsewhere, instead of seven per
/// parameter (docs/benchmarks.md measures the difference). The partitioned update that training's parallel steps use
/// (replicas' gradient buffers, parts, ranges) is internal to the library.
/// </summary>
/// <remarks>
/// Autograd accumulates into an existing gradient in place, so the gradients stay views of the flat buffer as
/// long as they are zeroed with <see cref="ZeroGrad()"/> (never set to null). Do not move the model to another
/// device after creating the optimiser.
/// </remarks>
public sealed class FlatAdam : IDisposable
{
    readonly Parameter[] parameters;
    readonly Tensor flatParameters, flatGradients, firstMoment, secondMoment;
    readonly Tensor? scratch;   // √v + ε, for the tensor-operation path only (the fused CPU pass needs none)
    readonly List<Tensor> gradientBuffers = new();   // [0] = flatGradients, then one per replica (data-parallel training)
    readonly Tensor[] ownGradient;
    readonly double[] unitWeight = [1.0];
    double pendingStepSize, pendingEpsilonTerm;

    /// <summary>Creates the optimiser and re-points <paramref name="parameters"/> and their gradients into flat buffers.</summary>
    /// <exception cref="ArgumentException">No parameters, or parameters of different dtypes or devices.</exception>
    public FlatAdam(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        this.parameters = parameters.ToArray();
        if (this.parameters.Length == 0) throw new ArgumentException("Adam needs at least one parameter.", nameof(parameters));
        var dtype = this.parameters[0].dtype;
        var device = this.parameters[0].device;
        if (this.parameters.Any(p => p.dtype != dtype || p.device_type != device.type || p.device_index != device.index))
            throw new ArgumentException("All parameters must share one dtype and one device.", nameof(parameters));
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        Count = this.parameters.Sum(p => p.numel());

        flatParameters = Allocate(dtype, device);
        flatGradients = Allocate(dtype, device).zero_();
        firstMoment = Allocate(dtype, device).zero_();
        secondMoment = Allocate(dtype, device).zero_();
        if (!Fused(dtype, device)) scratch = Allocate(dtype, device);
        using var noGrad = no_grad();
        long offset = 0;
        foreach (Parameter p in this.parameters)
        {
            long n = p.numel();
            using Tensor values = flatParameters.narrow(0, offset, n).view(p.shape);
            values.copy_(p);
            p.set_(values);
            p.grad = flatGradients.narrow(0, offset, n).view(p.shape);
            offset += n;
        }
        gradientBuffers.Add(flatGradients);
        ownGradient = [flatGradients];
    }

    /// <summary>
    /// Makes <paramref name="replica"/> (the parameters of a copy of the model, in the same order) share this optimiser's
    /// parameter storage, with gradients of its own in one more flat buffer; returns that buffer's index. Data-parallel
    /// training runs each replica on part of a batch, then <see cref="ReduceGradients"/> adds the gradients into buffer 0.
    /// </summary>
    /// <exception cref="ArgumentException">The replica's parameters do not match in number, shapes, dtype or device.</exception>
    internal int AddReplica(IEnumerable<Parameter> replica)
    {
        Parameter[] others = replica.ToArray();
        if (others.Length != parameters.Length)
            throw new ArgumentException($"The replica has {others.Length} parameters, the model {parameters.Length}.", nameof(replica));
        for (int i = 0; i < others.Length; i++)
            if (!others[i].shape.SequenceEqual(parameters[i].shape) || others[i].dtype != parameters[i].dtype || others[i].device_type != parameters[i].device_type)
                throw new ArgumentException($"The replica's parameter {i} is [{string.Join("x", others[i].shape)}] {others[i].dtype}, the model's [{string.Join("x", parameters[i].shape)}] {parameters[i].dtype}.", nameof(replica));
        Tensor gradients = Allocate(flatGradients.dtype, flatGradients.device).zero_();
        using var noGrad = no_grad();
        long offset = 0;
        for (int i = 0; i < others.Length; i++)
        {
            long n = others[i].numel();
            using Tensor values = flatParameters.narrow(0, offset, n).view(others[i].shape);
            others[i].set_(values);
            others[i].grad = gradients.narrow(0, offset, n).view(others[i].shape);
            offset += n;
        }
        gradientBuffers.Add(gradients);
        return gradientBuffers.Count - 1;
    }

    /// <summary>Frees every replica's gradient buffer (the replicas' parameters must no longer be used): back to the model's alone.</summary>
    internal void RemoveReplicas()
    {
        for (int b = gradientBuffers.Count - 1; b >= 1; b--)
        {
            gradientBuffers[b].Dispose();
            gradientBuffers.RemoveAt(b);
        }
    }

    /// <summary>Gradient buffers: the model's, then one per replica.</summary>
    internal int GradientBuffers => gradientBuffers.Count;

    /// <summary>Zeroes gradient buffer <paramref name="buffer"/> (each replica's thread zeroes its own, so its lines stay in its core's cache).</summary>
    internal void ZeroGrad(int buffer) => gradientBuffers[buffer].zero_();

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of the reduction g₀ ← Σₛ wₛ gₛ over the gradient buffers
    /// (CPU, float32 or float64); returns the sum of squares of the reduced gradients in that part, for the norm.
    /// </summary>
    internal double ReduceGradients(IReadOnlyList<double> weights, int part, int parts)
    {
        if (weights.Count != gradientBuffers.Count) throw new ArgumentException($"Expected {gradientBuffers.Count} weights, got {weights.Count}.", nameof(weights));
        if (scratch is not null) throw new InvalidOperationException("Reducing replica gradients needs CPU buffers of float32 or float64.");
        var (start, count) = Part(part, parts);
        return flatGradients.dtype == ScalarType.Float32
            ? FusedAdam.Reduce<float>(gradientBuffers, weights, start, count)
            : FusedAdam.Reduce<double>(gradientBuffers, weights, start, count);
    }

    /// <summary>Clips the (reduced) gradients whose norm, computed elsewhere, is <paramref name="norm"/> to <paramref name="maxNorm"/>.</summary>
    internal void ClipGivenNorm(double norm, double maxNorm)
    {
        if (double.IsFinite(norm) && norm > maxNorm) flatGradients.mul_(maxNorm / (norm + 1e-6));
    }

    /// <summary>Counts one step and fixes its step size; then <see cref="StepPart"/> updates every part (on any threads).</summary>
    internal void BeginStep()
    {
        if (scratch is not null) throw new InvalidOperationException("Updating in parts needs CPU buffers of float32 or float64.");
        Steps++;
        (pendingStepSize, pendingEpsilonTerm) = StepSizes();
    }

    /// <summary>Takes back a <see cref="BeginStep"/> after which nothing was updated (a tensor-parallel step whose loss was not finite).</summary>
    internal void AbandonStep()
    {
        if (Steps == 0) throw new InvalidOperationException("No step to take back.");
        Steps--;
    }

    /// <summary>The Adam update of part <paramref name="part"/> of <paramref name="parts"/> of the parameters, after <see cref="BeginStep"/>.</summary>
    internal void StepPart(int part, int parts)
    {
        var (start, count) = Part(part, parts);
        if (flatParameters.dtype == ScalarType.Float32)
            FusedAdam.Step<float>(flatParameters, flatGradients, firstMoment, secondMoment, (float)Beta1, (float)Beta2, (float)WeightDecay, (float)pendingStepSize, (float)pendingEpsilonTerm, start, count);
        else
            FusedAdam.Step<double>(flatParameters, flatGradients, firstMoment, secondMoment, Beta1, Beta2, WeightDecay, pendingStepSize, pendingEpsilonTerm, start, count);
    }

    /// <summary>
    /// The Adam update of part <paramref name="part"/> of <paramref name="parts"/> with the gradient Σₛ wₛ gₛ of all gradient
    /// buffers, formed on the fly (after <see cref="BeginStep"/>; no separate reduction pass, buffer 0 keeps its own values).
    /// Returns false, having stopped before the first chunk with a NaN or ±∞ in the gradient, where one occurs.
    /// </summary>
    internal bool StepPartFromReplicas(IReadOnlyList<double> weights, int part, int parts)
    {
        if (weights.Count != gradientBuffers.Count) throw new ArgumentException($"Expected {gradientBuffers.Count} weights, got {weights.Count}.", nameof(weights));
        var (start, count) = Part(part, parts);
        return flatParameters.dtype == ScalarType.Float32
            ? FusedAdam.StepFromShards<float>(flatParameters, gradientBuffers, weights, firstMoment, secondMoment, (float)Beta1, (float)Beta2, (float)WeightDecay, (float)pendingStepSize, (float)pendingEpsilonTerm, start, count)
            : FusedAdam.StepFromShards<double>(flatParameters, gradientBuffers, weights, firstMoment, secondMoment, Beta1, Beta2, WeightDecay, pendingStepSize, pendingEpsilonTerm, start, count);
    }

    /// <summary>
    /// The Adam update (after <see cref="BeginStep"/>) of elements [<paramref name="start"/>, <paramref name="start"/> +
    /// <paramref name="count"/>) of the flat buffers with the model's own gradient (CPU, float32 or float64): the parts a thread
    /// of a tensor-parallel step owns. Returns false, having stopped before the first chunk with a NaN or ±∞, where one occurs.
    /// </summary>
    internal bool StepRange(long start, long count)
    {
        if (scratch is not null) throw new InvalidOperationException("Updating in parts needs CPU buffers of float32 or float64.");
        if (start < 0 || count < 0 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(start), $"Elements [{start}, {start + count}) of {Count}.");
        return flatParameters.dtype == ScalarType.Float32
            ? FusedAdam.StepFromShards<float>(flatParameters, ownGradient, unitWeight, firstMoment, secondMoment, (float)Beta1, (float)Beta2, (float)WeightDecay, (float)pendingStepSize, (float)pendingEpsilonTerm, (int)start, (int)count)
            : FusedAdam.StepFromShards<double>(flatParameters, ownGradient, unitWeight, firstMoment, secondMoment, Beta1, Beta2, WeightDecay, pendingStepSize, pendingEpsilonTerm, (int)start, (int)count);
    }

    /// <summary>Where <paramref name="view"/> (a parameter, its gradient, or a contiguous part of either) starts in the flat buffers, in elements.</summary>
    /// <exception cref="ArgumentException">It lies in neither buffer.</exception>
    internal long OffsetOf(Tensor view)
    {
        long size = flatParameters.element_size();
        foreach (Tensor buffer in new[] { flatParameters, flatGradients })
        {
            long bytes = Address(view) - Address(buffer);
            if (bytes >= 0 && bytes % size == 0 && bytes / size + view.numel() <= Count) return bytes / size;
        }
        throw new ArgumentException("The tensor is not a view of this optimiser's parameters or gradients.", nameof(view));
    }

    static unsafe long Address(Tensor t)
    {
        fixed (byte* first = t.bytes) return (long)first;
    }

    // Parts split on 64-byte lines so two threads never write one cache line.
    (int Start, int Count) Part(int part, int parts)
    {
        if (parts < 1 || part < 0 || part >= parts) throw new ArgumentOutOfRangeException(nameof(part), part, $"Part {part} of {parts}.");
        long line = 64 / flatParameters.element_size();
        long perPart = (Count + parts - 1) / parts;
        perPart = (perPart + line - 1) / line * line;
        long start = Math.Min(Count, part * perPart), end = Math.Min(Count, start + perPart);
        return ((int)start, (int)(end - start));
    }

    (double StepSize, double EpsilonTerm) StepSizes()
    {
        double biasCorrection1 = 1 - Math.Pow(Beta1, Steps);
        double biasCorrection2 = 1 - Math.Pow(Beta2, Steps);
        // lr/bc1 · m / (√v/√bc2 + ε) = (lr·√bc2/bc1) · m / (√v + ε·√bc2): one division fewer per element.
        double rootBc2 = Math.Sqrt(biasCorrection2);
        return (LearningRate * rootBc2 / biasCorrection1, Epsilon * rootBc2);
    }

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; }

    /// <summary>Decay of the first-moment average.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second-moment average.</summary>
    public double Beta2 { get; }

    /// <summary>Added to √v̂ in the denominator.</summary>
    public double Epsilon { get; }

    /// <summary>L2 weight decay added to the gradient.</summary>
    public double WeightDecay { get; }

    /// <summary>Number of scalar parameters.</summary>
    public long Count { get; }

    /// <summary>Steps taken.</summary>
    public long Steps { get; private set; }

    /// <summary>The parameters, in the order of the flat buffers.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>Zeroes every gradient in one operation (keeping them views of the flat buffer).</summary>
    public void ZeroGrad()
    {
        foreach (Tensor gradients in gradientBuffers) gradients.zero_();
    }

    /// <summary>The Euclidean norm of all gradients together.</summary>
    public double GradientNorm()
    {
        using Tensor norm = flatGradients.norm();
        return norm.to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>Scales all gradients so their joint norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public double ClipGradientNorm(double maxNorm)
    {
        double norm = GradientNorm();
        ClipGivenNorm(norm, maxNorm);
        return norm;
    }

    /// <summary>One Adam step on every parameter.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        Steps++;
        var (stepSize, epsilonTerm) = StepSizes();
        if (scratch is null && flatParameters.dtype == ScalarType.Float32)
            FusedAdam.Step<float>(flatParameters, flatGradients, firstMoment, secondMoment, (float)Beta1, (float)Beta2, (float)WeightDecay, (float)stepSize, (float)epsilonTerm);
        else if (scratch is null)
            FusedAdam.Step<double>(flatParameters, flatGradients, firstMoment, secondMoment, Beta1, Beta2, WeightDecay, stepSize, epsilonTerm);
        else
        {
            if (WeightDecay != 0) flatGradients.add_(flatParameters, WeightDecay);
            firstMoment.lerp_(flatGradients, 1 - Beta1);
            secondMoment.mul_(Beta2).addcmul_(flatGradients, flatGradients, 1 - Beta2);
            scratch.copy_(secondMoment).sqrt_().add_(epsilonTerm);
            flatParameters.addcdiv_(firstMoment, scratch, -stepSize);
        }
    }

    // The one-pass update runs on CPU buffers of float32 or float64.
    static bool Fused(ScalarType dtype, Device device) =>
        device.type == TorchSharp.DeviceType.CPU && (dtype is ScalarType.Float32 or ScalarType.Float64);

    /// <summary>Writes the step count and both moments (for a checkpoint).</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(Count);
        writer.Write(Steps);
        writer.Write(firstMoment.bytes);
        writer.Write(secondMoment.bytes);
    }

    /// <summary>Reads what <see cref="Save"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The state is for a different number of parameters.</exception>
    public void Load(BinaryReader reader)
    {
        long count = reader.ReadInt64();
        if (count != Count) throw new InvalidDataException($"The optimiser state holds {count} parameters, this model has {Count}.");
        Steps = reader.ReadInt64();
        int length = firstMoment.bytes.Length;
        firstMoment.bytes = reader.ReadBytes(length);
        secondMoment.bytes = reader.ReadBytes(length);
    }

    Tensor Allocate(ScalarType dtype, Device device) =>
        device.type == TorchSharp.DeviceType.CPU ? MemoryPages.Empty([Count], dtype) : empty(Count, dtype, device);

    /// <summary>Frees the optimiser's buffers (the parameters keep their storage).</summary>
    public void Dispose()
    {
        flatParameters.Dispose();
        foreach (Tensor gradients in gradientBuffers) gradients.Dispose();
        firstMoment.Dispose();
        secondMoment.Dispose();
        scratch?.Dispose();
    }
}
