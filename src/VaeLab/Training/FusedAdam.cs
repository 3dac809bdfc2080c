using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace VaeLab.Training;

/// <summary>
/// The Adam update of <see cref="FlatAdam"/> on CPU buffers in one pass: each element of the parameters, gradients and both
/// moments is read once and written once. libtorch's element-wise operations take seven passes (lerp, mul, addcmul, copy,
/// sqrt, add, addcdiv) over 2.6 MB arrays each, and in a training loop, where the forward and backward passes have evicted
/// the moments from the caches, those passes ran from memory: 2.0 ms of a 7 ms step of the reference recipe, against
/// 0.4 ms when timed alone. libtorch's own fused Adam (<c>_fused_adam_</c>) is not exposed by TorchSharp.
/// </summary>
internal static class FusedAdam
{
    /// <summary>
    /// p ← p − stepSize · m / (√v + epsilonTerm), after g ← g + λp, m ← m + (1 − β1)(g − m), v ← β2 v + (1 − β2) g², element-wise
    /// in the order libtorch's operations use; contiguous CPU tensors of one element type <typeparamref name="T"/>.
    /// </summary>
    public static void Step<T>(Tensor parameters, Tensor gradients, Tensor firstMoment, Tensor secondMoment,
        T beta1, T beta2, T weightDecay, T stepSize, T epsilonTerm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> p = MemoryMarshal.Cast<byte, T>(parameters.bytes);
        Span<T> g = MemoryMarshal.Cast<byte, T>(gradients.bytes);
        Span<T> m = MemoryMarshal.Cast<byte, T>(firstMoment.bytes);
        Span<T> v = MemoryMarshal.Cast<byte, T>(secondMoment.bytes);
        if (g.Length != p.Length || m.Length != p.Length || v.Length != p.Length)
            throw new ArgumentException("The parameter, gradient and moment buffers must have one length.");
        T one = T.One, a = one - beta1, c = one - beta2, minusStep = -stepSize;
        bool decay = weightDecay != T.Zero;
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.Count > 1)
        {
            var pv = MemoryMarshal.Cast<T, Vector<T>>(p);
            var gv = MemoryMarshal.Cast<T, Vector<T>>(g);
            var mv = MemoryMarshal.Cast<T, Vector<T>>(m);
            var vv = MemoryMarshal.Cast<T, Vector<T>>(v);
            Vector<T> va = new(a), vb2 = new(beta2), vc = new(c), vstep = new(minusStep), veps = new(epsilonTerm), vdecay = new(weightDecay);
            for (int j = 0; j < pv.Length; j++)
            {
                Vector<T> gj = gv[j];
                if (decay) gv[j] = gj = gj + vdecay * pv[j];
                Vector<T> mj = mv[j] + va * (gj - mv[j]);
                Vector<T> vj = vv[j] * vb2 + vc * (gj * gj);
                mv[j] = mj;
                vv[j] = vj;
                pv[j] += vstep * mj / (Vector.SquareRoot(vj) + veps);
            }
            i = pv.Length * Vector<T>.Count;
        }
        for (; i < p.Length; i++)
        {
            T gi = g[i];
            if (decay) g[i] = gi = gi + weightDecay * p[i];
            T mi = m[i] + a * (gi - m[i]);
            T vi = v[i] * beta2 + c * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] += minusStep * mi / (T.Sqrt(vi) + epsilonTerm);
        }
    }
}
