#!/usr/bin/env node
import { createMediaServiceApp } from '../lib/media-service-app';

createMediaServiceApp().app.synth();
