// LLaMA-Factory's cutoff rule (infer_seqlen): how much of a prompt (source) and a response (target)
// survive a token budget. A short target keeps whole and the source is cut; a short source keeps
// whole and the target is cut; otherwise both are cut in proportion to their lengths.

export function inferSeqlen(sourceLen: number, targetLen: number, cutoffLen: number): [number, number] {
  let maxTargetLen: number;
  if (targetLen * 2 < cutoffLen) maxTargetLen = cutoffLen;
  else if (sourceLen * 2 < cutoffLen) maxTargetLen = cutoffLen - sourceLen;
  else maxTargetLen = Math.trunc(cutoffLen * (targetLen / (sourceLen + targetLen)));
  const newTargetLen = Math.min(maxTargetLen, targetLen);
  const maxSourceLen = Math.max(cutoffLen - newTargetLen, 0);
  const newSourceLen = Math.min(maxSourceLen, sourceLen);
  return [newSourceLen, newTargetLen];
}
