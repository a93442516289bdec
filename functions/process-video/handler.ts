/**
 * The video function: the upload processor's handler, fed by the video queue one message at a
 * time. Its configuration names no video queue, so it processes the videos it is given (ffprobe,
 * ffmpeg under their limits) instead of forwarding them; a photo never reaches it.
 */
export { handler, type ProcessUploadHandler } from '../process-upload/handler';
