import { PURPOSE_POLICIES, type Purpose } from '@media/core';
import { processImage, UploadRejected, type ProcessOptions } from '@media/imaging';

/** The options the upload processor passes for a purpose, with the declared type. */
export const optionsFor = (purpose: Purpose, declaredType: string, extra: Partial<ProcessOptions> = {}): ProcessOptions => ({
  declaredType,
  allowedTypes: PURPOSE_POLICIES[purpose].allowedTypes,
  derivatives: PURPOSE_POLICIES[purpose].derivatives,
  ...extra,
});

/** The rejection code and sentence, or 'accepted'; any other error fails the test as it should. */
export async function outcomeOf(input: Buffer, options: ProcessOptions): Promise<{ code: string; detail: string }> {
  try {
    await processImage(input, options);
    return { code: 'accepted', detail: '' };
  } catch (error) {
    if (error instanceof UploadRejected) return { code: error.code, detail: error.message };
    throw error;
  }
}
